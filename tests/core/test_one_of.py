"""`one_of` / `one_of_parameter`: ids as one parameter, on both databases, in a statement that
can be built once and run with any list of ids (no ids, one, many)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contracts.tables import Client
from app.core.repository import Repository, one_of, one_of_parameter
from app.core.statements import Prebuilt

from factories import make_client

BUILT_ONCE = Prebuilt(
    select(Client.id).where(one_of_parameter(Client.id, "ids")).order_by(Client.id)
)


class _Clients(Repository[Client]):
    model = Client


def test_a_statement_built_once_reads_whichever_ids_it_is_given(db: Session) -> None:
    clients = sorted(make_client(db).id for _ in range(3))
    repository = _Clients(db)

    def read(ids: list[str]) -> list[str]:
        return [client_id for (client_id,) in repository.rows(BUILT_ONCE, {"ids": ids})]

    assert read(clients) == clients
    assert read(clients[1:2]) == clients[1:2]
    assert read([clients[2], "cli_unknown", clients[0]]) == [clients[0], clients[2]]
    assert read([]) == []


def test_one_of_with_values_selects_the_same_rows(db: Session) -> None:
    clients = sorted(make_client(db).id for _ in range(2))
    statement = select(Client.id).where(one_of(Client.id, [clients[1], "cli_unknown"]))
    assert db.scalars(statement).all() == [clients[1]]


def test_the_ids_are_a_parameter_not_part_of_the_cached_statement() -> None:
    """Two lists of ids, even of different lengths, give one cache key (one compiled
    statement); another column gives another."""
    key = select(Client.id).where(one_of(Client.id, ["a"]))._generate_cache_key()
    same = select(Client.id).where(one_of(Client.id, ["b", "c", "d"]))._generate_cache_key()
    other = select(Client.id).where(one_of(Client.siren, ["a"]))._generate_cache_key()
    assert key is not None
    assert key == same
    assert key != other
