"""Errors of the training part (subclasses of the core tree).

Raised by ``muster.training.domain.model`` and ``muster.training.handlers``.
"""

from __future__ import annotations

from muster.core.errors import NotFound, ValidationFailed


class CourseInvalid(ValidationFailed):
    """A course's code, titles, role, tier or validity break the rules."""

    code = "course_invalid"


class TrainingInvalid(ValidationFailed):
    """A training record's dates or provider break the rules."""

    code = "training_invalid"


class UnknownCourse(NotFound):
    """No course has this code."""

    code = "unknown_course"


class UnknownTrainee(NotFound):
    """No user has this username."""

    code = "unknown_trainee"


__all__ = ["CourseInvalid", "TrainingInvalid", "UnknownCourse", "UnknownTrainee"]
