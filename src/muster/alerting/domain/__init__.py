"""Pure rules of the alerting part: colours, CAP content, the two-person rule."""
