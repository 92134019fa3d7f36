"""Pure rules of the training part: courses, records, tiers, expiry and readiness."""
