"""`hotline cti asterisk`'s connection: login, reconnecting, keepalive, stopping, the command."""

import asyncio
import os
import signal
import sys
from asyncio.subprocess import PIPE, STDOUT
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.calls.asterisk import AsteriskLoginError
from hotline.cli import main
from tests.calls.ami_replay import adapter_for, replay, with_manager_user
from tests.calls.ami_server import Connection, FakeAsterisk, serving_in_thread
from tests.conftest import require
from tests.live import free_port


@pytest.fixture
def asterisk_settings(settings):
    return with_manager_user(settings)


def test_wrong_credentials_at_the_start_are_a_clear_error(asterisk_settings, make_session):
    async def scenario():
        server = FakeAsterisk([], secret="another")
        adapter = adapter_for(await server.start(), asterisk_settings, make_session)
        try:
            with pytest.raises(AsteriskLoginError) as raised:
                await asyncio.wait_for(adapter.run(asyncio.Event()), 5)
        finally:
            await server.close()
        assert asyncio.all_tasks() == {asyncio.current_task()}
        return str(raised.value), server

    message, server = asyncio.run(scenario())
    assert f"Asterisk at 127.0.0.1:{server.port} refused the login of 'hotline'" in message
    assert "Authentication failed" in message and "HOTLINE_ASTERISK_SECRET" in message
    assert len(server.actions) == 1  # no second try


def test_the_command_exits_non_zero_on_wrong_credentials(settings):
    server = FakeAsterisk([], secret="another")
    with serving_in_thread(server) as port:
        result = CliRunner().invoke(
            main,
            ["cti", "asterisk"],
            env={
                "HOTLINE_DATABASE_URL": settings.resolved_database_url,
                "HOTLINE_ASTERISK_PORT": str(port),
                "HOTLINE_ASTERISK_USERNAME": "hotline",
                "HOTLINE_ASTERISK_SECRET": "wrong",
            },
        )
    assert result.exit_code == 1
    assert "refused the login of 'hotline': Authentication failed" in result.output


def test_the_command_needs_a_manager_user(settings):
    result = CliRunner().invoke(
        main,
        ["cti", "asterisk"],
        env={"HOTLINE_DATABASE_URL": settings.resolved_database_url},
    )
    assert result.exit_code == 1
    assert "HOTLINE_ASTERISK_USERNAME" in result.output


def test_after_a_first_login_a_refused_one_is_retried(asterisk_settings, make_session, caplog):
    server = FakeAsterisk([Connection(stream="drop.ami"), Connection(login=False), Connection()])
    adapter = asyncio.run(replay(server, asterisk_settings, make_session))
    assert adapter.logins == 2 and len(server.actions) == 3
    assert "Asterisk sent Shutdown (restart: True)" in caplog.text
    assert "refused the login: Authentication failed" in caplog.text


def test_it_waits_for_asterisk_to_come_up(asterisk_settings, make_session):
    async def scenario():
        port = free_port()
        adapter = adapter_for(port, asterisk_settings, make_session)
        stop = asyncio.Event()
        running = asyncio.create_task(adapter.run(stop))
        await asyncio.sleep(0.1)  # a few refused connections, backing off
        server = FakeAsterisk([Connection()], port=port)
        await server.start()
        async with asyncio.timeout(5):
            while not adapter.logins:
                await asyncio.sleep(0.005)
        stop.set()
        await asyncio.wait_for(running, 5)
        await server.close()
        assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(scenario())


def test_a_connection_that_stops_answering_is_replaced(asterisk_settings, make_session):
    server = FakeAsterisk([Connection(mute=True), Connection()])
    adapter = asyncio.run(
        replay(server, asterisk_settings, make_session, keepalive_s=0.02, timeout_s=0.1)
    )
    assert adapter.logins == 2
    assert [a["Action"] for a in server.actions[0]][-1] == "Ping"


def test_stop_ends_even_a_connection_that_hangs(asterisk_settings, make_session):
    async def scenario():
        server = FakeAsterisk([Connection(silent=True)])
        adapter = adapter_for(await server.start(), asterisk_settings, make_session, timeout_s=30)
        stop = asyncio.Event()
        running = asyncio.create_task(adapter.run(stop))
        async with asyncio.timeout(5):
            while not server.actions or not server.actions[0]:
                await asyncio.sleep(0.005)  # the login is on its way, and gets no answer
        stop.set()
        await asyncio.wait_for(running, 1)
        await server.close()
        assert asyncio.all_tasks() == {asyncio.current_task()}
        return adapter

    assert asyncio.run(scenario()).logins == 0


def test_the_command_runs_until_sigterm(settings):
    command = Path(sys.executable).with_name("hotline")
    require(command.exists(), f"the installed command {command}")

    async def scenario():
        server = FakeAsterisk([Connection()])
        port = await server.start()
        env = os.environ | {
            "HOTLINE_DATABASE_URL": settings.resolved_database_url,
            "HOTLINE_ASTERISK_PORT": str(port),
            "HOTLINE_ASTERISK_USERNAME": "hotline",
            "HOTLINE_ASTERISK_SECRET": "s3cret",
        }
        process = await asyncio.create_subprocess_exec(
            str(command), "cti", "asterisk", env=env, stdout=PIPE, stderr=STDOUT
        )
        try:
            async with asyncio.timeout(30):
                await server.finished.wait()  # logged in and resynchronised
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), 10)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            await server.close()
        return process.returncode, output.decode()

    code, output = asyncio.run(scenario())
    assert code == 0, output
    assert "logged in to Asterisk at 127.0.0.1:" in output
    assert output.rstrip().endswith("stopped")
