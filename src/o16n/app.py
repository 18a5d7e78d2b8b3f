"""Composition root: builds the store, auth, domain and HTTP layer from Settings."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from pydantic import SecretStr
from starlette.applications import Starlette

from o16n import __version__
from o16n.api.asgi import build_asgi
from o16n.api.dependencies import ApiServices, Cluster, Limits
from o16n.auth.ldap import LdapDirectory
from o16n.auth.passwords import Argon2Passwords
from o16n.auth.tokens import JwtSigner, new_key
from o16n.blobs.location import blob_store
from o16n.blobs.objects import FsspecBlobs
from o16n.domain.accounts import Accounts, TokenPolicy
from o16n.domain.authentication import Authenticator
from o16n.domain.batch_journal import Journal
from o16n.domain.batch_leases import LeaseTerms
from o16n.domain.batch_runner import BatchRunner
from o16n.domain.batches import Batches, BatchPolicy
from o16n.domain.compute_nodes import ComputeCluster, ComputeNodes
from o16n.domain.models import Role
from o16n.domain.ports import InterpreterFactory
from o16n.domain.realtime import RealtimeServices
from o16n.domain.services import Services
from o16n.domain.sessions import SessionLimits, Sessions
from o16n.domain.signing_keys import shared_keys
from o16n.domain.snapshots import Snapshots
from o16n.domain.status import Detail, Health, StatusReporter
from o16n.environments.builder import UvEnvironments
from o16n.environments.node_builds import NodeBuilds
from o16n.environments.uv import IndexOptions, Uv, cache_folder
from o16n.errors import InvalidInput
from o16n.ids import new_secret
from o16n.metrics import Metrics
from o16n.runtime.configuration import PoolConfig, default_live_workers
from o16n.runtime.cpus import usable_cpus
from o16n.runtime.interpreters import SessionInterpreters, SessionWorker, WorkerConfig
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.local_cluster import LocalComputeCluster
from o16n.runtime.process import LocalWorkers, WorkerProcess
from o16n.runtime.sandbox import Identities, open_root
from o16n.runtime.service_pools import ServicePools
from o16n.scoring.onnx import OnnxScorer
from o16n.settings import Settings
from o16n.store import schema
from o16n.store.engine import SqlStore, open_engine
from o16n.store.session_nodes import SqlSessionDirectory

ADMIN_USERNAME = "admin"
_log = logging.getLogger("o16n")
_FORWARD_MARGIN_SECONDS = 60.0  # a forwarded execution may run its whole deadline, and more


@dataclass(frozen=True)
class FirstStart:
    """What the first start of a data directory created."""

    created: bool
    admin_password: str | None


def _policy(settings: Settings) -> TokenPolicy:
    return TokenPolicy(
        access_seconds=settings.access_token_seconds,
        refresh_seconds=settings.refresh_token_seconds,
        chain_seconds=settings.refresh_chain_seconds,
        max_failures=settings.login_max_failures,
        failure_window_seconds=settings.login_failure_window_seconds,
        cooldown_seconds=settings.login_cooldown_seconds,
    )


@contextmanager
def open_store(settings: Settings, *, create: bool = False) -> Iterator[SqlStore]:
    """The metadata store; with `create`, a missing data directory is made first."""
    if create and not settings.data_dir.exists():
        open_root(settings.data_dir)  # workers pass through it; the rest is private (umask 077)
    store = SqlStore(open_engine(settings.effective_database_url))
    try:
        yield store
    finally:
        store.close()


def signer_for(settings: Settings, store: SqlStore) -> JwtSigner:
    """The token signer with the keys in the database (the first made on first use, taken
    from the data directory's keys/signing.key when an older o16n left one)."""
    return JwtSigner(shared_keys(store, new_key(settings.data_dir / "keys" / "signing.key")))


def accounts_for(settings: Settings, store: SqlStore, signer: JwtSigner) -> Accounts:
    """The Accounts use cases over `store`, checking logins by the enabled identity sources."""
    sources = settings.identity_sources.split(",")
    return Accounts(
        store,
        Argon2Passwords(),
        signer,
        _policy(settings),
        directory=LdapDirectory(settings) if "ldap" in sources else None,
        local_logins="local" in sources,
    )


def bootstrap(settings: Settings) -> FirstStart:
    """Create the data directory, the database and (while there is no account) `admin`.

    An existing database on an older schema raises SchemaOutdated.
    """
    with open_store(settings, create=True) as store:
        created = schema.prepare(store.engine)
        accounts = accounts_for(settings, store, signer_for(settings, store))
        if accounts.users():
            return FirstStart(created, None)
        configured = settings.admin_password
        password = configured.get_secret_value() if configured else new_secret(12)
        accounts.add_user(ADMIN_USERNAME, password, Role.OWNER)
        return FirstStart(True, None if configured else password)


def _worker_limits(settings: Settings) -> WorkerLimits:
    return WorkerLimits(
        memory_bytes=settings.worker_memory_bytes or None,
        cpu_seconds=settings.worker_cpu_seconds or None,
        open_files=settings.worker_open_files or None,
        user=settings.worker_user or None,
    )


def _worker_config(settings: Settings, identities: Identities) -> WorkerConfig:
    return WorkerConfig(
        root=settings.data_dir / "workers",
        limits=_worker_limits(settings),
        start_seconds=settings.worker_start_seconds,
        call_seconds=settings.execute_timeout_seconds,
        identities=identities,
    )


def _index_options(settings: Settings) -> IndexOptions:
    """Where environments' packages come from."""
    return IndexOptions(
        index_url=_secret(settings.env_index_url),
        extra_index_url=_secret(settings.env_extra_index_url),
        find_links=settings.env_find_links,
        no_index=settings.env_no_index,
        source_builds=settings.env_source_builds,
    )


def _environments(settings: Settings) -> UvEnvironments:
    """Environments under the data directory, built from the configured indexes."""
    uv = Uv(
        cache_folder(settings.data_dir / "uv-cache"),
        _index_options(settings),
        settings.env_build_seconds,
    )
    return UvEnvironments(
        settings.data_dir / "environments",
        uv,
        max_builds=settings.env_max_builds,
        grace_seconds=settings.env_grace_seconds,
        resolution_seconds=settings.env_resolution_seconds,
    )


def _service_pools(
    settings: Settings,
    snapshots: Snapshots,
    identities: Identities,
    metrics: Metrics,
    environments: UvEnvironments,
) -> ServicePools:
    config = PoolConfig(
        root=settings.data_dir / "services",
        limits=_worker_limits(settings),
        identities=identities,
        start_seconds=settings.worker_start_seconds,
        call_seconds=settings.service_timeout_seconds,
        prepare_seconds=settings.service_prepare_seconds,
        depth=settings.pool_pipeline_depth,
        full_depth=max(settings.pool_full_pipeline_depth, settings.pool_pipeline_depth),
        max_workers=settings.pool_max_workers or usable_cpus(),
        max_live=settings.pool_max_live_workers or default_live_workers(usable_cpus()),
        max_queue=settings.pool_max_queue,
        idle_seconds=settings.pool_idle_seconds,
        # With Ray an actor is placed for its version (spread), so none is started ahead.
        blank=0 if settings.runtime == "ray" else settings.pool_blank_workers,
        preload=tuple(name.strip() for name in settings.pool_preload.split(",") if name.strip()),
    )
    if settings.runtime == "ray":  # workers on the cluster, environments built on its nodes
        from o16n.runtime import ray_workers  # ray is imported only then

        ray_workers.connect(settings.ray_address)
        factory = ray_workers.RayWorkers(ray_workers.RayWorker, _node_builds(settings))
        shared = ray_workers.RaySharedWorkers(config.root)
        return ServicePools(config, snapshots.content_of, metrics, factory=factory, shared=shared)
    local = LocalWorkers(WorkerProcess, environments.interpreter)
    return ServicePools(config, snapshots.content_of, metrics, factory=local)


def _node_builds(settings: Settings) -> NodeBuilds:
    """How Ray nodes build environments: in a folder of their own under the same data
    directory path (a node that is also this machine does not share the web node's
    folder), with the web node's uv cache path and package sources."""
    return NodeBuilds(
        root=str(settings.data_dir / "ray-environments"),
        cache=str(settings.data_dir / "uv-cache"),
        options=_index_options(settings),
        build_seconds=settings.env_build_seconds,
    )


def _advertised_url(settings: Settings) -> str | None:
    """The URL this node is reached at: O16N_NODE_URL, else http://HOST:PORT (None when HOST
    is a wildcard, which names no address)."""
    if settings.node_url:
        return settings.node_url.rstrip("/")
    if settings.host in {"0.0.0.0", "::", ""}:
        return None
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


def _node_url(settings: Settings) -> str:
    """The URL other web nodes reach this one at."""
    url = _advertised_url(settings)
    if url is None:
        raise InvalidInput(
            "with O16N_CLUSTER_SECRET and a wildcard O16N_HOST, set O16N_NODE_URL to the URL "
            "other nodes reach this one at",
            field="node_url",
        )
    return url


def _session_directory(settings: Settings, store: SqlStore) -> SqlSessionDirectory | None:
    """Where every node's sessions live (only with many web nodes: a cluster secret, and
    local workers; on Ray every node reaches every session's actor)."""
    if _secret(settings.cluster_secret) is None or settings.runtime == "ray":
        return None
    return SqlSessionDirectory(store.engine, _node_url(settings))


def _compute_cluster(settings: Settings, pools: ServicePools, sessions: Sessions) -> ComputeCluster:
    """The nodes user code runs on: the Ray cluster's, or this machine."""
    if settings.runtime == "ray":
        from o16n.runtime.ray_nodes import RayComputeCluster  # ray is imported only then
        from o16n.runtime.ray_workers import PLACEMENT

        return RayComputeCluster(PLACEMENT)
    address = _advertised_url(settings) or f"http://{settings.host}:{settings.port}"
    return LocalComputeCluster(address, lambda: pools.counts().workers + sessions.counts()[0])


def _cluster(settings: Settings) -> Cluster | None:
    secret = _secret(settings.cluster_secret)
    if secret is None:
        return None
    return Cluster(secret, settings.execute_timeout_seconds + _FORWARD_MARGIN_SECONDS)


def _sessions(
    settings: Settings,
    snapshots: Snapshots,
    identities: Identities,
    environments: UvEnvironments,
    directory: SqlSessionDirectory | None,
) -> Sessions:
    limits = SessionLimits(
        per_user=settings.max_sessions_per_user,
        total=settings.max_sessions,
        idle_seconds=settings.session_idle_seconds,
    )
    config = _worker_config(settings, identities)
    interpreters: InterpreterFactory
    if settings.runtime == "ray":  # sessions are named actors that every web node finds
        from o16n.runtime.ray_sessions import RaySessionInterpreters  # ray is imported only then

        interpreters = RaySessionInterpreters(config, _node_builds(settings))
    else:
        local = LocalWorkers(SessionWorker, environments.interpreter)
        interpreters = SessionInterpreters(config, local)
    return Sessions(interpreters, snapshots, limits, environments, directory)


def _backends(
    sessions: Sessions,
    pools: ServicePools,
    settings: Settings,
    scorer: OnnxScorer,
    environments: UvEnvironments,
) -> Callable[[], dict[str, Health]]:
    def report() -> dict[str, Health]:
        live, busy = sessions.counts()
        workers = pools.counts()
        scoring = scorer.counts()
        built = environments.usage()
        details: dict[str, Detail] = {
            "apiVersion": "1.0",
            "pythonMaxPoolSize": settings.max_sessions,
            "pythonCurrentPoolSize": live + workers.workers + workers.blank,
            "pythonActiveShellCount": busy + workers.busy,
            "pythonCanOpenShell": str(live < settings.max_sessions),
            "sessions": live,
            "serviceWorkers": workers.workers,
            "blankWorkers": workers.blank,
            "realtimeModels": scoring.models,
            "realtimeCalls": scoring.calls,
            "realtimeRuns": scoring.runs,
            "environments": built.count,
            "environmentsBuilding": built.building,
            "environmentsDiskBytes": built.disk_bytes,
        }
        return {"local": Health("pass", details)}

    return report


async def _close_idle_sessions(sessions: Sessions, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        closed = await sessions.close_idle()
        if closed:
            _log.info("closed %d idle sessions", closed)


def _batches(
    settings: Settings,
    store: SqlStore,
    services: Services,
    snapshots: Snapshots,
    *,
    blobs: FsspecBlobs,
    pools: ServicePools,
    metrics: Metrics,
) -> Batches:
    leases = LeaseTerms(settings.batch_lease_seconds)  # this process is one node
    journal = Journal(store, snapshots, leases.node)
    share = settings.batch_pool_share
    runner = BatchRunner(services.consume, pools, share, journal, metrics.batch_record)
    policy = BatchPolicy(settings.batch_max_parallel, settings.batch_retention_seconds)
    return Batches(store, services, blobs, snapshots, runner=runner, policy=policy, leases=leases)


async def _sweep_periodically(sweep: Callable[[], Awaitable[int]], every: float, what: str) -> None:
    """Run `sweep` every `every` seconds, logging how many `what` it removed."""
    while True:
        try:
            swept = await sweep()
        except Exception:  # a sweeper must outlive a database hiccup
            _log.exception("sweeping %s failed", what)
        else:
            if swept:
                _log.info("removed %d %s", swept, what)
        await asyncio.sleep(every)


def _environment_sweep(
    store: SqlStore, sessions: Sessions, environments: UvEnvironments
) -> Callable[[], Awaitable[int]]:
    """Remove the environments no version, snapshot or live session uses (past the grace)."""

    def in_store() -> set[str]:
        with store.unit_of_work() as uow:
            return uow.services.environment_ids() | uow.snapshots.environment_ids()

    async def sweep() -> int:
        live = sessions.environment_ids()
        return await asyncio.to_thread(lambda: environments.sweep(in_store() | live))

    return sweep


def _secret(value: SecretStr | None) -> str | None:
    return (value.get_secret_value() or None) if value is not None else None


def create_app(settings: Settings) -> Starlette:
    """The whole server as one ASGI app; resources live exactly as long as its lifespan."""
    tracing = None
    if settings.otel_endpoint is not None:
        from o16n.api.tracing import tracer_provider  # opentelemetry is imported only then

        tracing = tracer_provider(settings.otel_endpoint, settings.otel_service_name)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with open_store(settings) as store:
            schema.prepare(store.engine)
            signer = signer_for(settings, store)
            blobs = blob_store(settings)
            snapshots = Snapshots(store, blobs)
            identities = Identities(settings.worker_user or None, settings.worker_uid_range)
            metrics = Metrics()
            environments = _environments(settings)
            directory = _session_directory(settings, store)
            if directory is not None:
                await asyncio.to_thread(directory.forget_this_node)
            sessions = _sessions(settings, snapshots, identities, environments, directory)
            pools = _service_pools(settings, snapshots, identities, metrics, environments)
            metrics.watch(pools.loads, lambda: sessions.counts()[0])
            scorer = OnnxScorer(
                snapshots.content_of, usable_cpus(), settings.service_timeout_seconds, metrics
            )
            services = Services(
                store,
                snapshots,
                pools,
                settings.service_cache_seconds,
                scorer,
                environments=environments,
                default_timeout=settings.service_timeout_seconds,
                max_pool_size=settings.pool_max_size,
            )
            batches = _batches(
                settings, store, services, snapshots, blobs=blobs, pools=pools, metrics=metrics
            )
            app.state.services = ApiServices(
                accounts=accounts_for(settings, store, signer),
                authenticator=Authenticator(store, signer, settings.auth_cache_seconds),
                status=StatusReporter(
                    store,
                    _backends(sessions, pools, settings, scorer, environments),
                    {"version": __version__},
                ),
                sessions=sessions,
                snapshots=snapshots,
                services=services,
                limits=Limits(settings.max_json_bytes, settings.max_upload_bytes),
                batches=batches,
                realtime=RealtimeServices(services, snapshots, scorer),
                metrics=metrics,
                metrics_token=_secret(settings.metrics_token),
                cluster=_cluster(settings),
                compute_nodes=ComputeNodes(_compute_cluster(settings, pools, sessions)),
            )
            swept = await asyncio.to_thread(snapshots.sweep)
            if swept:
                _log.info("removed %d blobs nothing referred to", swept)
            pools.start()
            every = min(60.0, settings.session_idle_seconds / 2)
            culler = asyncio.create_task(_close_idle_sessions(sessions, every))
            lease_keeper = asyncio.create_task(batches.keep_leases())
            sweeper = asyncio.create_task(
                _sweep_periodically(
                    batches.sweep, settings.batch_sweep_seconds, "expired batch executions"
                )
            )
            env_sweeper = asyncio.create_task(
                _sweep_periodically(
                    _environment_sweep(store, sessions, environments),
                    settings.env_sweep_seconds,
                    "Python environments nothing used",
                )
            )
            _log.info("o16n %s ready, data in %s", __version__, settings.data_dir)
            gc.freeze()  # what start-up made lives on: collections no longer walk it (W2 +24%)
            try:
                yield
            finally:
                culler.cancel()
                sweeper.cancel()
                env_sweeper.cancel()
                lease_keeper.cancel()
                environments.close()
                await batches.close()
                await asyncio.gather(sessions.close_all(), pools.close())
                scorer.close()

    return build_asgi(lifespan, tracing)
