from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

ACTIONS = {
    "create": _("created"),
    "update": _("changed"),
    "request": _("requested a change"),
    "approve": _("approved"),
    "reject": _("rejected"),
    "withdraw": _("withdrew a request"),
    "reassign": _("reassigned"),
    "import": _("imported"),
    "plan_visit": _("planned a visit"),
    "record_visit": _("recorded a visit"),
    "cancel_visit": _("cancelled a visit"),
}


@register.filter
def get(mapping, key):
    """``{{ labels|get:name }}``: a dictionary lookup with a variable key (falls back to the key)."""
    if not hasattr(mapping, "get"):
        return key
    return mapping.get(key, key)


@register.filter
def action_label(action: str) -> str:
    return ACTIONS.get(action, action)
