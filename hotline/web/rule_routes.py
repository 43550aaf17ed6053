"""The rule store's HTML routes under one router, in the order they must be matched."""

from fastapi import APIRouter

from hotline.web import (
    rule_drafts_views,
    rule_flags_views,
    rule_history_views,
    rules_admin_views,
    rules_views,
)

router = APIRouter()
# The routes are added as they are rather than included: an included router is a wrapper FastAPI
# builds again for every app (see create_app).
for views in (
    rules_views,  # the console's rules panel: /console/rules...
    # Before rules_admin_views: its /admin/rules/{code}/{slug} would take /admin/rules/flags/...
    rule_flags_views,
    rules_admin_views,  # /admin/rules and the edit form, /admin/rules/{code}/{slug}
    rule_history_views,  # /admin/rules/{code}/{slug}/history, .../restore/{version}, .../review
    rule_drafts_views,  # /admin/rules/{code}/{slug}/draft...
):
    router.routes.extend(views.router.routes)
