"""The data-flow diagram: scanned calls go straight to their provider, observed flows
through the gateway or, in red, around it."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from mageguard.report.diagram import GATEWAY, render_svg
from mageguard.report.flows import load_flows
from mageguard.report.model import DiagramEdge
from tests.report.conftest import FLOWS
from tests.report.test_model import build

SVG = "{http://www.w3.org/2000/svg}"


def test_observed_flows_go_through_the_gateway_or_around_it_in_red(scan_json: Path) -> None:
    diagram = build(scan_json, flows=load_flows(FLOWS)).diagram
    edges = set(diagram.edges)
    assert DiagramEdge("h:10.0.1.21", "p:openai", "bypass", "bypassed the gateway") in edges
    assert DiagramEdge("h:10.0.1.5", GATEWAY, "via_gateway", "observed") in edges
    assert DiagramEdge(GATEWAY, "p:anthropic", "via_gateway", "observed") in edges
    assert DiagramEdge("m:Lumen_FraudShield", "p:seon", "scanned", "found in code/config") in edges
    assert not any(e.source == "h:10.0.1.21" and e.target == GATEWAY for e in edges)
    # repo.magento.com is not AI: no node for it
    assert all("repo.magento.com" not in n.label for n in diagram.nodes)


def test_the_svg_is_well_formed_with_one_box_per_node_and_one_path_per_edge(
    scan_json: Path,
) -> None:
    diagram = build(scan_json, flows=load_flows(FLOWS)).diagram
    root = ElementTree.fromstring(render_svg(diagram))
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f"{SVG}g")) == len(diagram.nodes)
    paths = root.findall(f"{SVG}path")
    assert len(paths) == len(diagram.edges)
    red = [p for p in paths if p.get("class") == "edge edge-bypass"]
    assert len(red) == 1 and red[0].get("stroke") == "#dc2626"


def test_labels_from_the_store_are_escaped() -> None:
    from mageguard.report.model import Diagram, DiagramNode

    svg = render_svg(Diagram((DiagramNode("m:x", "<script>x</script>", 0, "module"),), ()))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
