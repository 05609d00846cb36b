"""SHACL eligibility: patients, shapes generated from constraints, validation and bulk matching."""
