"""What the interpreter follows: how data and hosts flow through PHP as Magento modules
write it. Each test is one idiom; the facts it yields are the specification."""

from __future__ import annotations

from mageguard.scan.config_sources import ConfigValue, ConfigValues
from mageguard.scan.facts import Fact
from mageguard.scan.php.analyzer import PhpAnalyzer
from mageguard.scan.php.classindex import ClassIndex
from mageguard.scan.wiring import Wiring

HEAD = "<?php\nnamespace Acme\\Ai\\Model;\n"


def analyze(
    files: dict[str, str], config: dict[str, str] | None = None, wiring: Wiring | None = None
) -> list[Fact]:
    sources = {
        f"app/code/Acme/Ai/Model/{name}.php": (HEAD + body).encode() for name, body in files.items()
    }
    index = ClassIndex(sources.get, [("Acme\\Ai", "app/code/Acme/Ai")])
    values = ConfigValues()
    for path, value in (config or {}).items():
        values.add(ConfigValue(path, value, "etc/config.xml:1"))
    analyzer = PhpAnalyzer(index, wiring or Wiring(), values)
    analyzer.run(sorted(sources), [])
    return analyzer.facts("app/code/Acme/Ai", ai_unit=True)


def calls(facts: list[Fact]) -> list[Fact]:
    return [f for f in facts if f.kind == "outbound_call"]


def test_a_host_built_with_sprintf_from_a_constant_of_another_class_resolves() -> None:
    facts = analyze(
        {
            "Endpoints": "class Endpoints { const BASE = 'https://api.mistral.ai'; }",
            "Chat": "class Chat { public function __construct(private \\GuzzleHttp\\Client $c) {}\n"
            "  public function go(): void { $this->c->post(sprintf('%s/v1/chat/completions',"
            " Endpoints::BASE), ['json' => ['model' => 'm', 'messages' => []]]); } }",
        }
    )
    assert [(f.provider, f.host) for f in calls(facts)] == [("mistral", "api.mistral.ai")]


def test_a_config_path_behind_a_config_class_resolves_to_its_default() -> None:
    facts = analyze(
        {
            "Config": "class Config { const XML_PATH = 'acme/ai/url';\n"
            "  public function __construct(private \\Magento\\Framework\\App\\Config\\"
            "ScopeConfigInterface $scopeConfig) {}\n"
            "  public function url(): string { return (string) $this->scopeConfig"
            "->getValue(self::XML_PATH); } }",
            "Chat": "class Chat { public function __construct(private Config $config,"
            " private \\Magento\\Framework\\HTTP\\Client\\Curl $curl) {}\n"
            "  public function go(): void { $this->curl->post($this->config->url(), '{}'); }"
            " }",
        },
        config={"acme/ai/url": "https://api.anthropic.com/v1/messages"},
    )
    assert [f.provider for f in calls(facts)] == ["anthropic"]


def test_data_passed_to_a_helper_reaches_the_request_the_helper_sends() -> None:
    facts = analyze(
        {
            "Gen": """
class Gen {
  public function __construct(private \\GuzzleHttp\\Client $client,
    private \\Magento\\Catalog\\Api\\ProductRepositoryInterface $repo) {}
  public function run(string $sku): void {
    $product = $this->repo->get($sku);
    $this->send(['cost' => $product->getData('cost'), 'name' => $product->getName()]);
  }
  private function send(array $payload): void {
    $this->client->post('https://api.openai.com/v1/responses', ['json' => $payload]);
  }
}"""
        }
    )
    assert calls(facts)[0].categories == {"cost_margin", "catalog_content"}


def test_a_magic_getter_is_classified_by_its_attribute_code() -> None:
    facts = analyze(
        {
            "Gen": """
class Gen {
  public function __construct(private \\GuzzleHttp\\Client $client) {}
  public function run(\\Magento\\Catalog\\Api\\Data\\ProductInterface $p): void {
    $this->client->post('https://api.openai.com/v1/responses',
      ['json' => ['input' => "Supplier: {$p->getSupplierName()}"]]);
  }
}"""
        }
    )
    assert calls(facts)[0].categories == {"supplier_terms"}


def test_array_map_with_an_arrow_function_carries_item_data() -> None:
    facts = analyze(
        {
            "Gen": """
class Gen {
  public function __construct(private \\GuzzleHttp\\Client $client,
    private \\Magento\\Sales\\Model\\ResourceModel\\Order\\CollectionFactory $orders) {}
  public function run(): void {
    $items = $this->orders->create()->getItems();
    $rows = array_map(fn($o) => ['email' => $o->getCustomerEmail()], $items);
    $this->client->post('https://api.openai.com/v1/files', ['json' => $rows]);
  }
}"""
        }
    )
    fact = calls(facts)[0]
    assert "customer_pii" in fact.categories
    assert {"bulk", "training_endpoint"} <= fact.conditions


def test_a_validator_clears_user_input_but_escaping_does_not() -> None:
    facts = analyze(
        {
            "Ask": """
class Ask {
  public function __construct(private \\Magento\\Framework\\HTTP\\Client\\Curl $curl,
    private \\Magento\\Framework\\App\\RequestInterface $request,
    private \\Magento\\Framework\\Escaper $escaper) {}
  public function escaped(): void {
    $q = $this->escaper->escapeHtml($this->request->getParam('q'));
    $this->curl->post('https://api.openai.com/v1/responses', json_encode(['input' => $q]));
  }
  public function validated(): void {
    $q = $this->sanitizePrompt($this->request->getParam('q'));
    $this->curl->post('https://api.openai.com/v1/responses', json_encode(['input' => $q]));
  }
  private function sanitizePrompt(string $q): string { return $q; }
}"""
        }
    )
    by_line = {f.line: "user_input_unvalidated" in f.conditions for f in calls(facts)}
    assert sorted(by_line.values()) == [False, True]


def test_an_interface_resolves_through_a_di_preference() -> None:
    wiring = Wiring()
    wiring.preferences["acme\\ai\\model\\senderinterface"] = "Acme\\Ai\\Model\\Sender"
    facts = analyze(
        {
            "SenderInterface": "interface SenderInterface {\n"
            "  public function send(string $t): void; }",
            "Sender": "class Sender implements SenderInterface {\n"
            "  public function __construct(private \\GuzzleHttp\\Client $c) {}\n"
            "  public function send(string $t): void { $this->c->post("
            "'https://api.cohere.com/v2/chat', ['json' => ['message' => $t]]); } }",
            "Job": "class Job { public function __construct(private SenderInterface $sender) {}\n"
            "  public function run(\\Magento\\Customer\\Api\\Data\\CustomerInterface $c): void"
            " { $this->sender->send($c->getEmail()); } }",
        },
        wiring=wiring,
    )
    assert [sorted(f.categories) for f in calls(facts)] == [["customer_pii"]]
    assert "Acme\\Ai\\Model\\Job" in calls(facts)[0].classes


def test_a_request_to_the_sovereign_gateway_is_not_an_external_call() -> None:
    facts = analyze(
        {
            "Gen": """
class Gen {
  public function __construct(private \\GuzzleHttp\\Client $client) {}
  public function run(\\Magento\\Catalog\\Api\\Data\\ProductInterface $p): void {
    $this->client->post('http://mageguard-gateway.internal:8080/v1/chat/completions',
      ['json' => ['model' => 'x', 'messages' => [$p->getCost()]]]);
  }
}"""
        }
    )
    assert calls(facts) == []


def test_deep_recursion_terminates() -> None:
    facts = analyze(
        {
            "Loop": """
class Loop {
  public function __construct(private \\GuzzleHttp\\Client $client) {}
  public function a(string $x): string { return $this->b($x . 'a'); }
  public function b(string $x): string { return $this->a($x . 'b'); }
  public function go(): void { $this->client->post('https://api.openai.com/v1/x',
    ['json' => ['input' => $this->a('')]]); }
}"""
        }
    )
    assert len(calls(facts)) == 1


def _logging_module_wiring(handler_class: str) -> Wiring:
    from mageguard.scan.wiring import read_di
    from mageguard.scan.xmlfile import parse_xml

    di = f"""<?xml version="1.0"?>
<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <virtualType name="Acme\\Ai\\Logger\\Handler" type="{handler_class}">
    <arguments><argument name="fileName" xsi:type="string">/var/log/ai.log</argument></arguments>
  </virtualType>
  <virtualType name="Acme\\Ai\\Logger\\Logger" type="Magento\\Framework\\Logger\\Monolog">
    <arguments><argument name="handlers" xsi:type="array">
      <item name="file" xsi:type="object">Acme\\Ai\\Logger\\Handler</item>
    </argument></arguments>
  </virtualType>
  <type name="Acme\\Ai\\Model\\Gen">
    <arguments>
      <argument name="logger" xsi:type="object">Acme\\Ai\\Logger\\Logger</argument>
    </arguments>
  </type>
</config>"""
    wiring = Wiring()
    read_di(wiring, parse_xml(di.encode(), "etc/di.xml"), "app/code/Acme/Ai/etc/di.xml")
    return wiring


LOGGING_GEN = """
class Gen {
  public function __construct(
    private \\GuzzleHttp\\Client $c, private \\Psr\\Log\\LoggerInterface $logger) {}
  public function run(\\Magento\\Catalog\\Api\\Data\\ProductInterface $p): string {
    $r = $this->c->post('https://api.openai.com/v1/chat/completions',
      ['json' => ['model' => 'm', 'messages' => [$p->getName()]]]);
    $text = (string) $r->getBody();
    $this->logger->info($text);
    return $text;
  }
}"""


def test_a_model_answer_logged_through_a_file_handler_is_a_log_write() -> None:
    wiring = _logging_module_wiring("Magento\\Framework\\Logger\\Handler\\Base")
    facts = analyze({"Gen": LOGGING_GEN}, wiring=wiring)
    assert [f.line for f in facts if f.kind == "log_write"] == [11]


def test_a_logger_whose_handlers_all_discard_records_writes_nothing() -> None:
    wiring = _logging_module_wiring("Monolog\\Handler\\NullHandler")
    facts = analyze({"Gen": LOGGING_GEN}, wiring=wiring)
    assert [f for f in facts if f.kind == "log_write"] == []
    assert len(calls(facts)) == 1  # the call itself is still found
