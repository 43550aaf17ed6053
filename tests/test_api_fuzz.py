"""The JSON API fuzzed from its own OpenAPI description: no input gives a server error."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from hotline.auth.models import Role
from hotline.auth.service import issue_api_token
from hotline.calls.service import seed_contact_reasons
from hotline.reports.service import ensure_default_cost_rate

EXAMPLES_PER_OPERATION = 15


def test_no_input_gives_a_server_error(app, session, make_user, subtests):
    seed_contact_reasons(session=session)
    ensure_default_cost_rate(session=session)
    # A system admin's token: the widest access, so requests reach the code behind the checks.
    token = issue_api_token(session=session, user=make_user(Role.SYSTEM_ADMIN), name="fuzz")
    session.commit()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    cases = [(operation, mode) for operation in operations for mode in schemathesis.GenerationMode]
    for operation, mode in cases:  # valid input, and input that breaks the schema

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_server_error(case):
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{response.text[:300]}"
            )

        with subtests.test(f"{operation.label} ({mode.value})"):
            try:
                no_server_error()
            except Unsatisfiable:
                # No parameters or body that could break the schema: nothing negative to send.
                if mode is schemathesis.GenerationMode.POSITIVE:
                    raise
