"""Criteria extraction: eligibility text in, criteria and typed constraints out."""
