"""The data pool with real connections from the zones' hosts, as the departments' roles."""

from __future__ import annotations

import shlex

import pytest

from govcloud.hosts.datapool import access_plan

POOL = "dp-1"
EXTRANET, INTRANET, INTERNET = "node-egov-1", "node-intra-1", "node-inet-1"


def psql(lab_session, client: str, role: str, sql: str, sslmode: str = "require"):
    """psql on a client host as a department; the password travels on stdin only."""
    dsn = f"host={POOL} port=5432 dbname=datapool user={role} sslmode={sslmode} connect_timeout=5"
    command = f"PGPASSWORD=$(cat) psql -X -At -v ON_ERROR_STOP=1 {shlex.quote(dsn)} -c {shlex.quote(sql)}"
    return lab_session.ssh(client, command, stdin=lab_session.passwords[role])


@pytest.fixture(scope="module")
def datasets(lab_session):
    """Each publisher puts one row into each of its datasets, from its own zone."""
    plan = access_plan(lab_session.env)
    clients = {"egov-extranet": EXTRANET, "egov-intranet": INTRANET}
    for ds in plan.datasets:
        publisher = plan.department(ds.ref.split("/")[0])
        sql = (f"CREATE TABLE IF NOT EXISTS {ds.schema}.records (id int PRIMARY KEY, note text); "
               f"INSERT INTO {ds.schema}.records VALUES (1, '{ds.ref}') ON CONFLICT DO NOTHING")
        result = psql(lab_session, clients[publisher.zone], publisher.role, sql)
        assert result.returncode == 0, result.stderr
    return plan


def test_consumer_reads_its_approved_conditional_dataset(lab_session, datasets):
    result = psql(lab_session, EXTRANET, "t_430121_agri", "SELECT note FROM t_430100_health__health_records.records")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "t-430100-health/health-records"


def test_consumer_in_another_zone_reads_its_approved_dataset(lab_session, datasets):
    result = psql(lab_session, INTRANET, "t_430000_pubsec", "SELECT note FROM t_430100_hrss__social_insurance.records")
    assert result.returncode == 0, result.stderr
    assert "social-insurance" in result.stdout


def test_consumer_cannot_read_an_unapproved_dataset(lab_session, datasets):
    result = psql(lab_session, EXTRANET, "t_430121_agri", "SELECT note FROM t_430100_hrss__social_insurance.records")
    assert result.returncode != 0
    assert "permission denied" in result.stderr


@pytest.mark.parametrize("role,client", [("t_430100_hrss", EXTRANET), ("t_430000_pubsec", INTRANET)])
def test_nobody_reads_a_not_shared_dataset(lab_session, datasets, role, client):
    result = psql(lab_session, client, role, "SELECT note FROM t_430000_finance__budget.records")
    assert result.returncode != 0
    assert "permission denied" in result.stderr


def test_publisher_reads_its_own_not_shared_dataset(lab_session, datasets):
    result = psql(lab_session, INTRANET, "t_430000_finance", "SELECT count(*) FROM t_430000_finance__budget.records")
    assert result.returncode == 0 and result.stdout.strip() == "1", result.stderr


@pytest.mark.parametrize("sql", [
    "INSERT INTO t_430100_health__health_records.records VALUES (2, 'x')",
    "UPDATE t_430100_health__health_records.records SET note = 'x'",
    "DELETE FROM t_430100_health__health_records.records",
    "CREATE TABLE t_430100_health__health_records.mine (id int)",
])
def test_consumer_cannot_write(lab_session, datasets, sql):
    result = psql(lab_session, EXTRANET, "t_430121_agri", sql)
    assert result.returncode != 0
    assert "permission denied" in result.stderr


def test_connection_without_tls_is_refused(lab_session, datasets):
    result = psql(lab_session, EXTRANET, "t_430121_agri", "SELECT 1", sslmode="disable")
    assert result.returncode != 0
    assert "no encryption" in result.stderr


def test_connections_use_tls(lab_session, datasets):
    result = psql(lab_session, EXTRANET, "t_430121_agri", "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    assert result.returncode == 0, result.stderr
    ssl, version = result.stdout.strip().split("|")
    assert ssl == "t" and version in ("TLSv1.2", "TLSv1.3")


def test_zone_without_a_flow_cannot_connect(lab_session, datasets):
    # The internet zone has no flow to the data zone: refused at the network, before PostgreSQL.
    result = psql(lab_session, INTERNET, "t_430121_agri", "SELECT 1")
    assert result.returncode != 0
    assert "Connection refused" in result.stderr or "timeout expired" in result.stderr


def test_department_only_from_its_own_zone(lab_session, datasets):
    # egov-intranet has a flow to the pool, but agri is an egov-extranet department.
    result = psql(lab_session, INTRANET, "t_430121_agri", "SELECT 1")
    assert result.returncode != 0
    assert "pg_hba.conf rejects connection" in result.stderr and "172.30.40.11" in result.stderr


def test_reads_of_conditional_datasets_are_audited_and_of_general_unconditional_not(lab_session, datasets):
    marker = "govcloud_audit_probe"
    assert psql(lab_session, EXTRANET, "t_430121_agri",
                f"SELECT '{marker}', note FROM t_430100_health__health_records.records").returncode == 0
    assert psql(lab_session, EXTRANET, "t_430100_hrss",
                f"SELECT '{marker}', note FROM t_430100_health__clinic_directory.records").returncode == 0
    log = lab_session.host(POOL).run("grep -h 'AUDIT: OBJECT' /var/log/postgresql/postgresql-15-main.log").stdout
    audited = [line for line in log.splitlines() if marker in line]
    assert any("t_430100_health__health_records.records" in line and "READ" in line for line in audited), log[-2000:]
    assert not any("clinic_directory" in line for line in audited)


def test_no_password_verifier_in_the_server_log(lab_session, datasets):
    log = lab_session.host(POOL).run("cat /var/log/postgresql/postgresql-15-main.log").stdout
    assert log, "the server log is empty"
    assert "SCRAM-SHA-256$" not in log


def test_check_mode_reports_an_unapproved_grant_and_converge_revokes_it(lab_session, datasets):
    grant = "GRANT t_430100_health__health_records__read TO t_430100_hrss"
    shell = lab_session.host(POOL)
    assert shell.run(f"runuser -u postgres -- psql -X -d datapool -c {shlex.quote(grant)}").rc == 0
    sql = "SELECT count(*) FROM t_430100_health__health_records.records"
    assert psql(lab_session, EXTRANET, "t_430100_hrss", sql).returncode == 0, "the rogue grant works"
    drift = lab_session.converge(playbook="datapool.yml", check=True, tags=["sharing_grants"])
    assert drift.ok and drift.stats[POOL]["changed"] == 1
    assert psql(lab_session, EXTRANET, "t_430100_hrss", sql).returncode == 0, "check mode changed the grants"
    repair = lab_session.converge(playbook="datapool.yml", tags=["sharing_grants"])
    assert repair.ok and repair.stats[POOL]["changed"] == 1
    result = psql(lab_session, EXTRANET, "t_430100_hrss", sql)
    assert result.returncode != 0 and "permission denied" in result.stderr
