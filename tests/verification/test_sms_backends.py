"""The simple SMS backends: console, locmem, file; chosen by settings.SMS_BACKEND."""

import io
import json

import pytest

from appeals.models import Message, MessageState
from appeals.notifications import sms
from appeals.notifications.outbox import message_deliver, send_sms
from appeals.notifications.sms import SmsMessage, get_connection


def _message(out_id="k:1"):
    return SmsMessage(phone="13812345678", template="verification_code", params={"code": "123456"}, text="code 123456", out_id=out_id)


def test_console_backend_writes_the_text_in_local_mode(settings):
    settings.CONSOLE_MESSAGES_IN_FULL = True  # config.settings.local
    stream = io.StringIO()
    provider_id = get_connection("appeals.notifications.sms.backends.console.SmsBackend", stream=stream).send(_message())
    assert provider_id.startswith("console-")
    assert stream.getvalue() == "SMS to 13812345678 [verification_code] (k:1): code 123456\n"


def test_console_backend_keeps_the_code_out_of_the_stream_otherwise(settings):
    """Production and test settings: the console is a process's log; no code, a masked number."""
    assert settings.CONSOLE_MESSAGES_IN_FULL is False
    stream = io.StringIO()
    get_connection("appeals.notifications.sms.backends.console.SmsBackend", stream=stream).send(_message())
    assert stream.getvalue() == ("SMS to 138****5678 [verification_code] (k:1): 11 characters; text not shown: "
                                 "CONSOLE_MESSAGES_IN_FULL is off\n")
    assert "123456" not in stream.getvalue()


def test_locmem_backend_collects_and_looks_up(sms_outbox):
    backend = get_connection("appeals.notifications.sms.backends.locmem.SmsBackend")
    assert backend.lookup(_message()) is False
    backend.send(_message())
    assert sms.outbox == [_message()] and backend.lookup(_message()) is True


def test_file_backend_one_file_per_key(tmp_path):
    backend = get_connection("appeals.notifications.sms.backends.filebased.SmsBackend", file_path=tmp_path)
    assert backend.lookup(_message()) is False
    backend.send(_message())
    [path] = list(tmp_path.iterdir())
    assert json.loads(path.read_text())["params"] == {"code": "123456"}
    assert backend.lookup(_message()) is True and backend.lookup(_message("k:2")) is False


@pytest.mark.django_db
def test_backend_is_chosen_by_setting(settings, tmp_path, sms_outbox):
    settings.SMS_BACKEND = "appeals.notifications.sms.backends.filebased.SmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    key = send_sms(phone="13812345678", template="verification_code", params={"code": "000111", "reference": "AP-1",
                                                                              "company": "C", "minutes": 10})
    message_deliver(message_id=Message.objects.get(idempotency_key=key).pk)
    assert Message.objects.get(idempotency_key=key).state == MessageState.SENT
    [path] = list(tmp_path.iterdir())
    assert "000111" in json.loads(path.read_text())["text"] and sms_outbox == []
