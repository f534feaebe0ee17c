"""A Magento module calls the gateway the way Magento modules call OpenAI: PHP's curl
with a JSON body and a bearer key. Only the base URL changes."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.helpers.debian import require
from tests.helpers.gateway import RunningGateway

PHP_CLIENT = r"""
$base = $argv[1]; $key = $argv[2]; $stream = $argv[3] === 'stream';
$body = json_encode([
    'model' => 'local-model',
    'stream' => $stream,
    'messages' => [
        ['role' => 'system', 'content' => 'You write product copy.'],
        ['role' => 'user', 'content' => 'Mail jana.novak@example.org about LMN-TRAIL-42'],
    ],
]);
$ch = curl_init($base . '/v1/chat/completions');
$chunks = '';
curl_setopt_array($ch, [
    CURLOPT_POST => true,
    CURLOPT_POSTFIELDS => $body,
    CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'Authorization: Bearer ' . $key],
    CURLOPT_RETURNTRANSFER => !$stream,
    CURLOPT_TIMEOUT => 20,
]);
if ($stream) {
    curl_setopt($ch, CURLOPT_WRITEFUNCTION, function ($ch, $data) use (&$chunks) {
        $chunks .= $data;
        return strlen($data);
    });
}
$raw = curl_exec($ch);
$status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
if ($raw === false) { fwrite(STDERR, curl_error($ch)); exit(3); }
if ($stream) {
    $text = '';
    foreach (explode("\n", $chunks) as $line) {
        if (strpos($line, 'data: ') !== 0 || trim($line) === 'data: [DONE]') continue;
        $event = json_decode(substr($line, 6), true);
        $text .= $event['choices'][0]['delta']['content'] ?? '';
    }
    echo json_encode(['status' => $status, 'text' => $text]);
} else {
    $reply = json_decode($raw, true);
    echo json_encode(['status' => $status,
        'text' => $reply['choices'][0]['message']['content'] ?? null,
        'error' => $reply['error'] ?? null]);
}
"""


def php(gw: RunningGateway, key: str, mode: str) -> dict[str, Any]:
    binary = require("php", "php-cli", "php-curl")
    out = subprocess.run(
        [binary, "-r", PHP_CLIENT, gw.url, key, mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(out.stdout))


def test_php_curl_gets_a_restored_answer(
    gateway: RunningGateway, acme_key: str, stub_upstream: Any
) -> None:
    reply = php(gateway, acme_key, "plain")
    assert reply["status"] == 200
    assert reply["text"] == "echo: Mail jana.novak@example.org about LMN-TRAIL-42"
    assert "jana.novak" not in json.dumps(stub_upstream.requests)


def test_php_curl_streams(gateway: RunningGateway, acme_key: str) -> None:
    reply = php(gateway, acme_key, "stream")
    assert reply == {"status": 200, "text": "echo: Mail jana.novak@example.org about LMN-TRAIL-42"}


def test_php_curl_sees_an_openai_style_error_for_a_bad_key(gateway: RunningGateway) -> None:
    reply = php(gateway, "not-a-key", "plain")
    assert reply["status"] == 401
    assert reply["error"]["code"] == "invalid_api_key"
