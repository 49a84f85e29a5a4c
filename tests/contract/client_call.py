"""One integrator's session through a Python client generated from docs/openapi.json.

Run by tests/contract.rs as `python client_call.py BASE_URL TOKEN` with the generated package
(`opsdesk_client`, from openapi-python-client) on PYTHONPATH. It files a ticket, reads it back,
finds it in the queue, changes it and takes it into triage, each through the generated types,
and prints what it saw as one JSON object for the test to check.
"""

import json
import sys
import uuid

from opsdesk_client import AuthenticatedClient
from opsdesk_client.api.tickets import (
    create_ticket,
    get_ticket,
    list_tickets,
    patch_ticket,
    transition_ticket,
)
from opsdesk_client.models import (
    CustomerByAccount,
    ErrorBody,
    NewTicket,
    Other,
    OtherTo,
    Priority,
    Status,
    SystemKey,
    TicketPatch,
    TicketView,
)


def main(base_url: str, token: str) -> None:
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    customer = CustomerByAccount(account="3302 0253 5583", name="张建国")
    new = NewTicket(
        title="生成的客户端：委托查询超时",
        description="客户在交易页面查询当日委托时一直转圈，十秒后提示超时。",
        system=SystemKey.TRADING,
        customer=customer,
        priority=Priority.P2,
    )
    key = f"client-{uuid.uuid4()}"
    created = create_ticket.sync(client=client, body=new, idempotency_key=key)
    assert isinstance(created, TicketView), created
    replayed = create_ticket.sync(client=client, body=new, idempotency_key=key)
    assert isinstance(replayed, TicketView), replayed

    read = get_ticket.sync(created.id, client=client)
    assert isinstance(read, TicketView), read

    page = list_tickets.sync(client=client, status=[Status.NEW], system="trading", q="委托查询超时")
    listed = [t.id for t in page.tickets]

    patched = patch_ticket.sync(
        created.id,
        client=client,
        body=TicketPatch(version=read.version, priority=Priority.P1),
    )
    assert isinstance(patched, TicketView), patched
    stale = patch_ticket.sync(
        created.id,
        client=client,
        body=TicketPatch(version=read.version, priority=Priority.P3),
    )
    assert isinstance(stale, ErrorBody), stale
    moved = transition_ticket.sync(
        created.id,
        client=client,
        body=Other(to=OtherTo.TRIAGING, version=patched.version),
    )
    assert isinstance(moved, TicketView), moved

    print(
        json.dumps(
            {
                "created": created.id,
                "replayed": replayed.id,
                "read_title": read.title,
                "masked_account": read.customer.account,
                "listed": listed,
                "patched_priority": str(patched.priority),
                "stale_code": stale.error.code,
                "stale_current": stale.error.current.version,
                "status": str(moved.status),
                "version": moved.version,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
