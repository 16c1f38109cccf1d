"""The domain's errors: each carries a message for the user; a refusal writes nothing."""


class RecruitmentError(Exception):
    """A domain rule refused the operation; the message is safe to show to the user."""


class StudyNotRecruiting(RecruitmentError):
    pass


class StudyFileError(RecruitmentError):
    pass


class InvalidTransition(RecruitmentError):
    """The status machine, or a rule of the target status, refuses the move."""


class ReasonRequired(InvalidTransition):
    pass


class CriteriaNotMet(InvalidTransition):
    """A step that needs every criterion met (or overridden by an investigator)."""


class StudyFull(InvalidTransition):
    pass


class AlreadyEnrolled(InvalidTransition):
    pass


class ImportRowError(RecruitmentError):
    """A row of an import could not be saved; `index` is its place in the list (0-based)
    and `__cause__` the original error. The whole import has been rolled back."""

    def __init__(self, index: int):
        super().__init__(f"Row {index + 1} of the import could not be saved.")
        self.index = index
