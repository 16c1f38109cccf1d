"""Posting admin change pages back in tests, as a browser would."""


def form_data(response, **changes) -> dict:
    """What the browser would post back from an admin change page: the main form's current
    values, every inline's management form and hidden fields, then `changes`."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(n): management[n].value() for n in management.fields})
        forms += inline.formset.forms
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is not None and value is not False:
                data[form.add_prefix(name)] = value
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
