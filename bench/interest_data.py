"""The LDN interest form's fields for one new, likely eligible person, as the bench's scripts
post them (bench/form_post.lua builds the same in Lua for wrk)."""

import uuid

# Every patient-answered criterion, answered so the pre-screen finds the person likely eligible.
LDN_ANSWERS = {
    "q_diagnosis": "yes",
    "q_core-symptoms__pem": "yes",
    "q_core-symptoms__sleep": "yes",
    "q_core-symptoms__cognitive": "yes",
    "q_core-symptoms__orthostatic": "no",
    "q_can-attend": "yes",
    **{
        f"q_{code}": "no"
        for code in (
            "opioids",
            "recent-ldn",
            "allergy",
            "pregnancy",
            "liver",
            "autoimmune",
            "substance-misuse",
            "other-trial",
        )
    },
}


def interest_fields(*, first_name: str, last_name: str, email: str, phone: str) -> dict:
    """The whole form for one person, with a submission token of its own (the caller adds the
    signed `form_issued` time and, over HTTP, the CSRF token)."""
    return {
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "phone": phone,
        "preferred_contact": "phone",
        "best_time": "morning",
        "date_of_birth": "1980-04-28",
        "zip_code": "35203",
        "referral_source": "prohealth",
        "note": "",
        "contact_consent": "on",
        **LDN_ANSWERS,
        "submission_token": str(uuid.uuid4()),
    }
