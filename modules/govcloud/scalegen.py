"""A synthetic province: the lab's platform scaled to 14 cities, 122 counties, 4,000 tenants.

The output is an ordinary inventory that passes ``govcloud validate``; benchmarks of every
stage (load, render, check, diff) use it. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import random
from pathlib import Path

import yaml

from .inventory_io import dump_document, write_atomic
from .model import codes
from .model.loader import PLATFORM_FILE, TENANTS_DIR

LAB_PLATFORM = Path(__file__).resolve().parents[2] / "inventories" / "lab" / PLATFORM_FILE

DEPARTMENTS = [
    ("health", "卫生健康委员会"), ("edu", "教育局"), ("hrss", "人力资源和社会保障局"), ("finance", "财政局"),
    ("pubsec", "公安局"), ("civil", "民政局"), ("justice", "司法局"), ("natres", "自然资源局"),
    ("ecoenv", "生态环境局"), ("housing", "住房和城乡建设局"), ("transport", "交通运输局"), ("water", "水利局"),
    ("agri", "农业农村局"), ("commerce", "商务局"), ("tourism", "文化旅游广电局"), ("stats", "统计局"),
    ("market", "市场监督管理局"), ("medsec", "医疗保障局"), ("emergency", "应急管理局"), ("audit", "审计局"),
    ("tax", "税务局"), ("veterans", "退役军人事务局"), ("forestry", "林业局"), ("sports", "体育局"),
    ("grain", "粮食和物资储备局"), ("admin", "行政审批服务局"), ("data", "数据资源局"), ("archives", "档案局"),
    ("ethnic", "民族宗教事务局"), ("petition", "信访局"), ("energy", "能源局"), ("planning", "发展和改革委员会"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


# zone kind, percentage of tenants, overcommit of its clusters
ZONE_PLAN = [("egov-extranet", 70, 1.5), ("internet", 20, 1.2), ("egov-intranet", 10, 1.0)]
TENANTS_PER_CLUSTER = 400


def generate(out: Path, name: str, *, cities: int, counties: int, tenants: int, seed: int,
             zone_plan: list[tuple[str, int, float]] | None = None, services: bool = True) -> int:
    """``zone_plan``: (zone kind, percentage of tenants, overcommit) instead of ZONE_PLAN (e.g. one
    zone: one cluster); ``services=False``: no public services (they need an internet cluster)."""
    rng = random.Random(seed)
    platform = yaml.safe_load(LAB_PLATFORM.read_text(encoding="utf-8"))
    province = "430000"
    regions = [{"code": province, "name": "湖南省", "bureau": "湖南省数据局"}]
    city_codes = [f"43{c:02d}00" for c in range(1, cities + 1)]
    for i, code in enumerate(city_codes, start=1):
        regions.append({"code": code, "name": f"第{i}市", "parent": province, "bureau": f"第{i}市数据资源局"})
    county_codes = []
    for k in range(counties):
        city = city_codes[k % cities]
        code = f"{city[:4]}{21 + k // cities:02d}"
        county_codes.append(code)
        regions.append({"code": code, "name": f"{city[:4]}-{21 + k // cities}县", "parent": city})
    platform["regions"] = regions
    platform["name"] = "湖南省政务云（合成省级规模）"

    # Tenants per zone kind, then enough clusters of a fixed size to hold them.
    clusters, cluster_of_kind = [], {}
    zone_id = {z["kind"]: z["id"] for z in platform["zones"]}
    kind_counts = {}
    remaining = tenants
    plan = zone_plan or ZONE_PLAN
    for index, (kind, share, _) in enumerate(plan):
        count = remaining if index == len(plan) - 1 else tenants * share // 100
        kind_counts[kind] = count
        remaining -= count
    lab_clusters = {c["zone"]: c for c in platform["clusters"]}
    # API endpoints in the management zone, after the lab's own hosts and endpoints.
    management = ipaddress.IPv4Network(next(z["cidr"] for z in platform["zones"] if z["kind"] == "management"))
    api_addresses = (str(a) for a in list(management.hosts())[99:])
    for kind, _, ratio in plan:
        n = max(1, math.ceil(kind_counts[kind] / TENANTS_PER_CLUSTER))
        ids = []
        for i in range(1, n + 1):
            cid = f"{kind.split('-')[-1][:5]}-{i}"
            base = lab_clusters[zone_id[kind]]
            clusters.append({
                **base,
                "id": cid,
                "kube_context": f"{name}-{cid}",
                "api": {"address": next(api_addresses), "port": 6443},
                "capacity": {"cpu": "4000", "memory": "16Ti", "storage": "400Ti", "pods": 40000},
                "overcommit": ratio,
            })
            ids.append(cid)
        cluster_of_kind[kind] = ids
    platform["clusters"] = clusters
    node_os = next(h["os"] for h in platform["hosts"] if h["role"] == "cluster-node")
    hosts = [h for h in platform["hosts"] if h["role"] != "cluster-node"]
    for c in clusters:
        zone = next(z for z in platform["zones"] if z["id"] == c["zone"])
        offset = 100 + len([h for h in hosts if h["zone"] == zone["id"]])
        hosts.append({"name": f"node-{c['id']}", "zone": zone["id"], "role": "cluster-node", "cluster": c["id"],
                      "address": str(ipaddress.IPv4Network(zone["cidr"])[offset]), "os": node_os})
    platform["hosts"] = hosts

    root = out / name
    # Editors resolve the $schema line relative to the file; right for relative output dirs.
    depth = len(out.parts) + 1 if not out.is_absolute() else 0
    write_atomic(root / PLATFORM_FILE, dump_document(platform, "platform", depth=depth))
    tenant_dir = root / TENANTS_DIR
    tenant_dir.mkdir(parents=True, exist_ok=True)
    for stale in tenant_dir.glob("*.yaml"):
        stale.unlink()

    all_regions = [province] + city_codes + county_codes
    slots = [(r, d) for d in range(len(DEPARTMENTS)) for r in all_regions]
    rng.shuffle(slots)
    if tenants > len(slots):
        raise ValueError(f"{tenants} tenants need more regions or departments (max {len(slots)})")
    kinds = [k for k, _, _ in plan for _ in range(kind_counts[k])]
    published: list[tuple[str, str, str, str]] = []  # ref, sharing, sensitivity, zone kind
    documents = []
    for index, ((region, dept), kind) in enumerate(zip(slots[:tenants], kinds, strict=False)):
        slug, dept_name = DEPARTMENTS[dept]
        tid = f"t-{region}-{slug}"
        level = {"egov-intranet": rng.choice([3, 4]), "internet": rng.choice([1, 2, 3])}.get(kind, rng.choice([2, 3]))
        people = [f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}" for _ in range(3)]
        doc = {
            "department": {"slug": slug, "name": f"{region}{dept_name}", "uscc": codes.make_uscc(region, 10_000 + index)},
            "region": region,
            "mlps_level": level,
            "cluster": cluster_of_kind[kind][index % len(cluster_of_kind[kind])],
            "zone": zone_id[kind],
            "administrators": {
                role: {"account": f"{role[:3]}{index:05d}", "name": people[i]}
                for i, role in enumerate(("system", "security", "audit"))
            },
            "change": {"requested_by": f"sys{index:05d}", "reason": f"{dept_name}业务系统上云",
                       "review_by": dt.date(2027, 1 + index % 12, 1 + index % 28)},
        }
        if kind != "internet":
            sharing = rng.choice(["unconditional", "conditional", "not-shared"])
            sensitivity = rng.choice(["general", "important", "core"])
            doc["datasets"] = {"publishes": [{"name": "records", "description": f"{dept_name}业务数据",
                                              "sharing": sharing, "sensitivity": sensitivity}]}
            consumable = [p for p in published if p[1] != "not-shared"]
            consumes = []
            for ref, p_sharing, _, _ in rng.sample(consumable, min(len(consumable), rng.randint(0, 3))):
                entry = {"dataset": ref, "purpose": "业务协同"}
                if p_sharing == "conditional":
                    entry["approval"] = f"GX-2026-{index:05d}"
                consumes.append(entry)
            if consumes:
                doc["datasets"]["consumes"] = consumes
            published.append((f"{tid}/records", sharing, sensitivity, kind))
        if services and kind != "egov-intranet" and rng.random() < 0.2:
            doc["services"] = [{"name": "web", "host": f"{slug}.{region}.hunan.gov.cn", "path": "/", "port": 8080}]
        documents.append((tid, doc))
    for tid, doc in documents:
        write_atomic(tenant_dir / f"{tid}.yaml", dump_document(doc, "tenant", depth=depth + 1))
    return 1 + len(documents)
