"""`{% queue_result_list cl %}`: Django's `{% result_list cl %}` with the rows drawn from a plan
made once per page instead of once per cell.

Django's `items_for_result` looks every column up again for each of the 100 rows (the field,
its choices as a new dict, the empty-value text, the CSS class, the translated labels): what
that costs the queue is in bench/README.md ("The queue's rows"). Here each column is looked
up once, with Django's public helpers (`Options.get_field`, `lookup_field`,
`display_for_field`, `display_for_value`) and two small rules of the admin's written out below
(`_css_name`, `_model_field`), and each cell only reads its value and formats it the way
Django does. The output is Django's, byte for byte: `test_the_queue_rows_are_djangos_rows`
compares the two on participants of every kind. Each column also picks, once per page, the
short way its kind of cell is drawn (`_Column.writer`), and the rows are handed to the
template as one string (`queue_tbody`, printed by `admin/queue_results.html`) rather than as
1,000 cells for its loop. Pages with `list_editable` forms take Django's own path.
"""

import datetime
from html import escape as text_escape  # Django's escape() without its lazy-text check

from django import template
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.utils import (
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeData, SafeString, mark_safe

register = template.Library()

# Reversed in place of an integer primary key once per page, then replaced by each row's.
_PK_STAND_IN = "queue-row-pk"
_PER_ROW = object()


class _Column:
    """One list_display column, looked up once for the page."""

    def __init__(self, cl: ChangeList, index: int, name, *, link: bool, first_link: bool):
        self.cl = cl
        self.name = name
        self.link = link
        self.tag = "th" if first_link else "td"
        self.empty = cl.model_admin.get_empty_value_display()
        classes = [f"field-{_css_name(name, index)}"]
        self.field = _model_field(cl.lookup_opts, name)
        self.method = None
        if self.field is None and not callable(name) and name != "__str__":
            self.method = getattr(cl.model_admin, name, None)
        self.choices = None
        field = self.field
        if field is not None and not field.auto_created:
            if getattr(field, "flatchoices", None):
                try:
                    # Labels translated once for the page, not once per cell.
                    self.choices = {k: str(v) for k, v in dict(field.flatchoices).items()}
                except TypeError:
                    self.choices = None
            if isinstance(field, models.DateField | models.TimeField | models.ForeignKey):
                classes.append("nowrap")
        elif name == "action_checkbox":
            classes = ["action-checkbox"]
        names = " ".join(classes)
        self.row_class = mark_safe(f' class="{names}"')  # noqa: S308 - field names, no input
        self.row_class_nowrap = mark_safe(f' class="{names} nowrap"')  # noqa: S308
        self.query = None  # the preserved filters' query string, from the first row
        self.url_pattern = _change_url_pattern(cl) if link else None

    def cell(self, result) -> str:
        """The cell's HTML, escaped as `format_html` would (a plain string: the caller marks
        the row safe once)."""
        row_class = self.row_class
        field = self.field
        try:
            if field is not None:
                attr, value = None, getattr(result, self.name)
            elif self.method is not None:
                attr = self.method
                value = attr(result)
            else:
                field, attr, value = lookup_field(self.name, result, self.cl.model_admin)
        except ObjectDoesNotExist:
            result_repr = self.empty
        else:
            empty = getattr(attr, "empty_value_display", self.empty)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if field is None or field.auto_created:
                boolean = getattr(attr, "boolean", False)
                if isinstance(attr, property) and hasattr(attr, "fget"):
                    boolean = getattr(attr.fget, "boolean", False)
                result_repr = display_for_value(value, empty, boolean)
                if isinstance(value, datetime.date | datetime.time):
                    row_class = self.row_class_nowrap
            elif isinstance(field.remote_field, models.ManyToOneRel):
                field_value = getattr(result, field.name)
                result_repr = empty if field_value is None else field_value
            elif self.choices is not None:
                result_repr = self.choices.get(value, empty)
            else:
                result_repr = display_for_field(value, field, empty, avoid_link=self.link)
        if not self.link:
            return f"<td{row_class}>{conditional_escape(result_repr)}</td>"
        linked = self._linked(result, result_repr)
        return f"<{self.tag}{row_class}>{linked}</{self.tag}>"

    def writer(self):
        """A function drawing this column's cell for one row. The kinds of column the queue
        shows (an admin method's text or number, a foreign key, a linked text field) get a
        short path decided here, once for the page; anything else goes through `cell`. Each
        gives `cell`'s output (the tests compare both with Django's)."""
        field, method = self.field, self.method
        blank = f"<td{self.row_class}>{conditional_escape(self.empty)}</td>"
        if (
            method is not None
            and not self.link
            and not getattr(method, "boolean", False)
            and not hasattr(method, "empty_value_display")
        ):
            return self._method_writer(method, f"<td{self.row_class}>", blank)
        if field is None or field.auto_created or self.choices is not None:
            return self.cell
        if isinstance(field.remote_field, models.ManyToOneRel) and not self.link:
            return self._foreign_key_writer(field, f"<td{self.row_class}>", blank)
        if (
            type(field) in (models.CharField, models.SlugField)
            and self.link
            and self.url_pattern is not None
            and not self.cl.is_popup
        ):
            return self._linked_text_writer(field)
        return self.cell

    def _method_writer(self, method, start: str, blank: str):
        cell = self.cell

        def write(result) -> str:
            try:
                value = method(result)
            except ObjectDoesNotExist:
                return blank
            if isinstance(value, str):
                if not value.strip():
                    return blank
                html = value if isinstance(value, SafeData) else text_escape(value)
                return f"{start}{html}</td>"
            if type(value) is int:
                return f"{start}{text_escape(formats.number_format(value))}</td>"
            return cell(result)  # dates, booleans, lists: Django's rules

        return write

    def _foreign_key_writer(self, field, start: str, blank: str):
        """The related object's text, escaped once per object on the page."""
        name, attname, shown = field.name, field.attname, {}

        def write(result) -> str:
            key = getattr(result, attname)
            if key is None:
                return blank
            html = shown.get(key)
            if html is None:
                html = shown[key] = f"{start}{conditional_escape(getattr(result, name))}</td>"
            return html

        return write

    def _linked_text_writer(self, field):
        name, empty, tag = self.name, self.empty, self.tag
        start = f"<{tag}{self.row_class}>"
        end = f"</{tag}>"

        def write(result) -> str:
            value = getattr(result, name)
            if value is None or not value.strip():
                shown = conditional_escape(empty)
            else:
                shown = text_escape(value)
            return f'{start}<a href="{text_escape(self._url(result))}">{shown}</a>{end}'

        return write

    def _linked(self, result, result_repr):
        cl = self.cl
        try:
            url = self._url(result)
        except NoReverseMatch:
            return result_repr
        popup = ""
        if cl.is_popup:
            key = str(cl.to_field) if cl.to_field else cl.lookup_opts.pk.attname
            value = result.serializable_value(key)
            popup = format_html(' data-popup-opener="{}"', value)
        return format_html('<a href="{}"{}>{}</a>', url, popup, result_repr)

    def _url(self, result) -> str:
        """`cl.url_for_result` with the preserved filters added, as Django writes it. Every
        row links to the same change view: its path is reversed once per page with a stand-in
        for integer keys, and the filters' query string (which Django finds by resolving each
        row's URL again) is worked out on the first row and reused."""
        cl = self.cl
        pk = getattr(result, cl.pk_attname)
        if type(pk) is int and self.url_pattern is not None:
            url = self.url_pattern.replace(_PK_STAND_IN, str(pk))
        else:
            url = cl.url_for_result(result)
        # A URL with a query string of its own (the admin's change URLs have none), or a
        # page whose first row did not fit the pattern: Django's way, row by row.
        if "?" in url or self.query is _PER_ROW:
            return self._with_filters(url)
        if self.query is None:
            with_filters = self._with_filters(url)
            self.query = with_filters[len(url) :] if with_filters.startswith(url) else _PER_ROW
            return with_filters
        return url + self.query

    def _with_filters(self, url: str) -> str:
        cl = self.cl
        return add_preserved_filters(
            {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url
        )


def _css_name(name, index: int) -> str:
    """The column's name in its cells' CSS class, as Django's admin writes it: a function's
    name, `lambda<index>` for a lambda."""
    if callable(name):
        return f"lambda{index}" if name.__name__ == "<lambda>" else name.__name__
    return name


def _model_field(opts, name):
    """The model field a column shows, as Django's `lookup_field` finds it, or None. None also
    for what the admin does not treat as a field: a generic foreign key, a reverse relation,
    and a foreign key named by its column (`study_id`), which shows the raw value."""
    if callable(name):
        return None
    try:
        field = opts.get_field(name)
    except FieldDoesNotExist:
        return None
    if field.is_relation and ((field.many_to_one and not field.related_model) or field.one_to_many):
        return None
    if field.is_relation and not field.many_to_many and getattr(field, "attname", None) == name:
        return None
    return field


def _change_url_pattern(cl: ChangeList) -> str | None:
    """The change view's URL with _PK_STAND_IN for the key, when rows link there the way
    Django's ChangeList does; None otherwise."""
    if type(cl).url_for_result is not ChangeList.url_for_result:
        return None
    opts = cl.opts
    try:
        pattern = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=(_PK_STAND_IN,),
            current_app=cl.model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return None
    return pattern if pattern.count(_PK_STAND_IN) == 1 else None


def _columns(cl: ChangeList) -> list[_Column]:
    columns, first = [], True
    for index, name in enumerate(cl.list_display):
        if cl.list_display_links is None:
            link = False
        elif first and not cl.list_display_links:
            link = True
        else:
            link = name in cl.list_display_links
        columns.append(_Column(cl, index, name, link=link, first_link=link and first))
        if link:
            first = False
    return columns


def queue_results(cl: ChangeList) -> list:
    """Django's `results(cl)`: one list of cells per row."""
    if cl.formset:
        return list(admin_list.results(cl))
    writers = [column.writer() for column in _columns(cl)]
    return [
        admin_list.ResultList(None, [mark_safe(w(row)) for w in writers])  # noqa: S308
        for row in cl.result_list
    ]


def queue_tbody(cl: ChangeList) -> SafeString:
    """The table's rows as Django's `change_list_results.html` writes them (its loop's line
    breaks included), built as one string: the template's loop over 100 rows of 10 cells
    resolved each cell as a variable, a sixth of the page's time."""
    writers = [column.writer() for column in _columns(cl)]
    rows = ["\n\n<tr>" + "".join([w(row) for w in writers]) + "</tr>\n" for row in cl.result_list]
    return mark_safe("".join(rows))  # noqa: S308 - every cell escaped by _Column.cell


def queue_result_list(cl: ChangeList) -> dict:
    """Django's `result_list(cl)` with the rows drawn by `queue_tbody` (or, on a page with
    `list_editable` forms, by Django)."""
    headers = list(admin_list.result_headers(cl))
    if cl.formset:
        results, tbody = list(admin_list.results(cl)), None
    else:
        tbody = queue_tbody(cl)
        results = bool(cl.result_list)
    return {
        "cl": cl,
        "result_hidden_fields": list(admin_list.result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": results,
        "tbody": tbody,
    }


@register.tag(name="queue_result_list")
def queue_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=queue_result_list,
        template_name="queue_results.html",
        takes_context=False,
    )
