<?php
// Cases for rules.yaml: bench/semgrep/check_rules.py checks every annotation.
// The keys below are fake, made to match the key formats only.

namespace Bench\SemgrepTest;

use GuzzleHttp\Client;
use OpenAI;

class Positive
{
    private const ENDPOINT = 'https://api.anthropic.com/v1/messages';
    // ruleid: hardcoded-ai-key
    private const KEY = 'sk-proj-FAKE0KEY0FOR0SEMGREP0RULE0TESTS0ONLY0000';
    // ruleid: hardcoded-ai-key
    private const CLAUDE = 'sk-ant-api03-FAKE0KEY0FOR0SEMGREP0RULE0TESTS0ONLY0000';
    // ruleid: hardcoded-ai-key
    private const GOOGLE = 'AIzaFAKE0KEY0FOR0SEMGREP0RULE0TESTS0000';

    public function guzzle($product)
    {
        $client = new Client();
        $prompt = 'Describe ' . $product->getName() . ' costing ' . $product->getCost();
        // ruleid: php-http-client-ai-host, php-magento-data-to-http
        $client->post('https://api.openai.com/v1/chat/completions', ['json' => ['input' => $prompt]]);
        // ruleid: php-http-client-ai-host
        $client->request('POST', 'https://api.anthropic.com' . '/v1/messages', []);
        // ruleid: php-http-client-ai-host
        $other = new Client(['base_uri' => 'https://myres.openai.azure.com/', 'timeout' => 5]);
        // ruleid: php-http-client-ai-host
        $client->post(self::ENDPOINT, []);
        // ruleid: php-prompt-logging
        $this->logger->info('AI prompt', ['prompt' => $prompt]);
        // ruleid: php-prompt-logging
        $this->_logger->debug('model said: ' . $response);
    }

    public function magentoCurl($order)
    {
        $payload = json_encode(['email' => $order->getCustomerEmail()]);
        // ruleid: php-http-client-ai-host, php-magento-data-to-http
        $this->curl->post('https://api.anthropic.com/v1/messages', $payload);
    }

    public function rawCurl($product)
    {
        $ch = curl_init();
        // ruleid: php-curl-ai-host
        curl_setopt($ch, CURLOPT_URL, 'https://generativelanguage.googleapis.com/v1beta/models');
        // ruleid: php-magento-data-to-http
        curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode(['price' => $product->getPrice()]));
        // ruleid: php-curl-ai-host
        $h = curl_init('https://api.mistral.ai/v1/chat/completions');
    }

    public function stream($product)
    {
        $ctx = stream_context_create(['http' => ['content' => $product->getDescription()]]);
        // ruleid: php-stream-ai-host, php-magento-data-to-http
        return file_get_contents('https://api.openai.com/v1/embeddings', false, $ctx);
    }

    public function sdk($product)
    {
        // ruleid: php-ai-sdk-call
        $client = OpenAI::client('key');
        // ruleid: php-ai-sdk-call, php-magento-data-to-http
        return $client->chat()->create(['messages' => [['content' => $product->getData('cost')]]]);
    }

    public function export($collection, $handle)
    {
        foreach ($collection as $product) {
            // ruleid: php-collection-csv-export
            fputcsv($handle, [$product->getSku(), $product->getPrice()]);
        }
    }
}

class Negative
{
    private const TASK = 'task-0123456789abcdefghijklmnopqrstuvwxyz';

    public function shipping($request)
    {
        // ok: php-http-client-ai-host
        $this->curl->post('https://wwwcie.ups.com/api/rates', ['weight' => 1]);
        // ok: php-curl-ai-host
        curl_setopt($ch, CURLOPT_URL, 'https://api.fixer.io/latest');
        // ok: php-prompt-logging
        $this->logger->critical($e->getMessage(), ['order_id' => 5]);
        // ok: php-magento-data-to-http
        $this->curl->post('https://example.com/rates', ['weight' => $request->getWeight()]);
        foreach ($rows as $row) {
            // ok: php-collection-csv-export
            fputcsv($handle, $row);
        }
        // ok: hardcoded-ai-key
        return 'desk-0123456789abcdefghijklmnopqrstuvwxyz0123';
    }
}
