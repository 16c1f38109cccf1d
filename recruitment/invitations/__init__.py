"""Registry invitations, the staff side: a study's registry matches without identities, and
the "Invite" button that emails a person about the study (the person's yes / no is on the
public side, `recruitment.intake.invitation`)."""
