"""The training part: capability records (courses, people's training) and readiness.

Courses train a role at a tier; training records say who completed which course when,
with whom and until when it counts. Readiness puts them next to each department's
people (identity) and its drills (``drills.DrillCompleted`` read from the log).
"""
