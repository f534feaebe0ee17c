"""The data-flow diagram: who sends data to which AI destination, and by which path.

Three layers: sources on the left (modules and configuration sections from the scan,
hosts seen in the logs), the gateway in the middle, destinations on the right (external
providers, the local models). A call found in code or configuration goes straight to its
provider (amber, dashed: what would happen); an observed flow goes through the gateway
(green) or around it (red). The SVG is written here, a small layered layout with no
library: nodes are stacked per layer and edges are cubic curves between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from mageguard.catalog import load_catalog
from mageguard.report.flows import FlowAudit
from mageguard.report.model import Diagram, DiagramEdge, DiagramNode, FindingRef

GATEWAY = "gateway"
LOCAL = "local-models"
_COLOURS = {"scanned": "#d97706", "via_gateway": "#15803d", "bypass": "#dc2626", "local": "#15803d"}
_FILL = {
    "gateway": "#dbeafe",
    "local": "#dcfce7",
    "external": "#fee2e2",
    "module": "#f3f4f6",
    "host": "#fef9c3",
}
_X = (10, 370, 610)  # left edge of each layer's boxes
_W = (250, 150, 270)
_ROW, _BOX, _TOP = 34, 24, 30


def build_diagram(findings: Iterable[FindingRef], flows: FlowAudit | None) -> Diagram:
    names = load_catalog().provider_by_id
    nodes: dict[str, DiagramNode] = {
        GATEWAY: DiagramNode(GATEWAY, "mageguard gateway", 1, "gateway"),
        LOCAL: DiagramNode(LOCAL, "local models", 2, "local"),
    }
    edges: dict[tuple[str, str, str], DiagramEdge] = {
        (GATEWAY, LOCAL, "local"): DiagramEdge(GATEWAY, LOCAL, "local", "routed locally"),
    }

    def provider(pid: str) -> str:
        node = f"p:{pid}"
        nodes.setdefault(
            node, DiagramNode(node, names[pid].name if pid in names else pid, 2, "external")
        )
        return node

    for f in findings:
        if not f.provider:
            continue
        source = f"m:{f.feature}"
        nodes.setdefault(source, DiagramNode(source, f.feature, 0, "module"))
        target = provider(f.provider)
        edges.setdefault(
            (source, target, "scanned"),
            DiagramEdge(source, target, "scanned", "found in code/config"),
        )
    for flow in flows.flows if flows else ():
        if not flow.provider:
            continue
        source = f"h:{flow.source}"
        nodes.setdefault(source, DiagramNode(source, flow.source, 0, "host"))
        target = provider(flow.provider)
        if flow.via_gateway:
            edges[(source, GATEWAY, "via_gateway")] = DiagramEdge(
                source, GATEWAY, "via_gateway", "observed"
            )
            edges[(GATEWAY, target, "via_gateway")] = DiagramEdge(
                GATEWAY, target, "via_gateway", "observed"
            )
        else:
            edges[(source, target, "bypass")] = DiagramEdge(
                source, target, "bypass", "bypassed the gateway"
            )
    return Diagram(
        _ordered(nodes.values(), edges.values()),
        tuple(sorted(edges.values(), key=lambda e: (e.kind, e.source, e.target))),
    )


def _ordered(nodes: Iterable[DiagramNode], edges: Iterable[DiagramEdge]) -> tuple[DiagramNode, ...]:
    """Destinations by kind and name; each source placed at the mean row of what it talks
    to (the barycentre heuristic), which keeps most edges from crossing."""
    right = sorted(
        (n for n in nodes if n.layer == 2), key=lambda n: (n.kind != "local", n.label.lower())
    )
    row = {n.id: i for i, n in enumerate(right)}
    row[GATEWAY] = len(right) // 2
    targets: dict[str, list[int]] = {}
    for e in edges:
        targets.setdefault(e.source, []).append(row.get(e.target, 0))

    def centre(n: DiagramNode) -> tuple[float, str]:
        rows = targets.get(n.id) or [0]
        return (sum(rows) / len(rows), n.label.lower())

    left = sorted((n for n in nodes if n.layer == 0), key=centre)
    return (*left, *(n for n in nodes if n.layer == 1), *right)


def _label(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_svg(diagram: Diagram) -> str:
    rows: dict[int, list[DiagramNode]] = {0: [], 1: [], 2: []}
    for node in diagram.nodes:
        rows[node.layer].append(node)
    height = _TOP + max(len(r) for r in rows.values()) * _ROW + 70
    pos: dict[str, tuple[float, float]] = {}
    parts: list[str] = []
    for layer, members in rows.items():
        offset = 0.0 if layer == 0 else (height - 70 - _TOP - len(members) * _ROW) / 2
        for i, node in enumerate(members):
            y = _TOP + offset + i * _ROW
            pos[node.id] = (_X[layer], y)
            parts.append(
                f'<g class="node node-{node.kind}"><rect x="{_X[layer]}" y="{y:.0f}" '
                f'width="{_W[layer]}" '
                f'height="{_BOX}" rx="5" fill="{_FILL.get(node.kind, "#fff")}" stroke="#6b7280"/>'
                f'<text x="{_X[layer] + 8}" y="{y + 16:.0f}">{escape(_label(node.label))}</text>'
                f"<title>{escape(node.label)}</title></g>"
            )
    lines: list[str] = []
    for edge in diagram.edges:
        (sx, sy), (tx, ty) = pos[edge.source], pos[edge.target]
        layer = next(n.layer for n in diagram.nodes if n.id == edge.source)
        x1, y1, x2, y2 = sx + _W[layer], sy + _BOX / 2, tx, ty + _BOX / 2
        mid = (x1 + x2) / 2
        dash = ' stroke-dasharray="5 4"' if edge.kind == "scanned" else ""
        width = 2.5 if edge.kind == "bypass" else 1.4
        lines.append(
            f'<path class="edge edge-{edge.kind}" d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} '
            f'{mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}" fill="none" stroke="{_COLOURS[edge.kind]}" '
            f'stroke-width="{width}"{dash} marker-end="url(#arrow-{edge.kind})">'
            f"<title>{escape(edge.label)}</title></path>"
        )
    markers = "".join(
        f'<marker id="arrow-{k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
        f'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
        for k, c in _COLOURS.items()
    )
    heads = "".join(
        f'<text class="layer" x="{x}" y="16">{t}</text>'
        for x, t in zip(_X, ("Sources (scan, logs)", "Gateway", "Destinations"), strict=True)
    )
    legend = _legend(height - 40)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-diagram" role="img" '
        f'aria-label="Data-flow diagram" viewBox="0 0 900 {height}" width="900" height="{height}" '
        f'font-family="sans-serif" font-size="12"><defs>{markers}</defs>{heads}'
        f"{''.join(lines)}{''.join(parts)}{legend}</svg>"
    )


def _legend(y: float) -> str:
    items = (
        ("scanned", "found in code or configuration (direct)"),
        ("via_gateway", "observed through the gateway"),
        ("bypass", "observed bypassing the gateway"),
    )
    out = []
    for i, (kind, text) in enumerate(items):
        x = 10 + i * 300
        dash = ' stroke-dasharray="5 4"' if kind == "scanned" else ""
        out.append(
            f'<line x1="{x}" y1="{y + 10}" x2="{x + 30}" y2="{y + 10}" stroke="{_COLOURS[kind]}" '
            f'stroke-width="2"{dash}/><text x="{x + 36}" y="{y + 14}" font-size="10">'
            f"{escape(text)}</text>"
        )
    return "".join(out)
