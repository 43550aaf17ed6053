"""Every HTML router, in the order the app includes them."""

from hotline.web import (
    archive_views,
    audit_views,
    auth_views,
    callback_views,
    console_views,
    contact_reason_views,
    cost_model_views,
    cti_views,
    essentials_views,
    letters_views,
    live_views,
    report_views,
    rule_drafts_views,
    rule_flags_views,
    rule_history_views,
    rules_admin_views,
    rules_views,
    supervisor_views,
)

routers = [
    auth_views.router,
    console_views.router,
    rules_views.router,
    # Before rules_admin_views: its /admin/rules/{code}/... must not shadow /admin/rules/flags.
    rule_flags_views.router,
    rules_admin_views.router,
    rule_history_views.router,
    rule_drafts_views.router,
    letters_views.router,
    supervisor_views.router,
    report_views.router,
    cost_model_views.router,
    live_views.router,
    contact_reason_views.router,
    cti_views.router,
    archive_views.router,
    audit_views.router,
    essentials_views.router,
    callback_views.router,
]
