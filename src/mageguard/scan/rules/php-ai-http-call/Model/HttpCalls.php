<?php
/**
 * Fixture for php-ai-http-call: each `ruleid` marks the line after it as a finding,
 * each `ok` marks a line that must not be one.
 */
declare(strict_types=1);

namespace Fixture\PhpAiHttpCall\Model;

use GuzzleHttp\Client;
use GuzzleHttp\ClientFactory;
use Laminas\Http\Client as LaminasClient;
use Magento\Catalog\Api\Data\ProductInterface;
use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\HTTP\Client\Curl;

class HttpCalls
{
    private const OPENAI = 'https://api.openai.com/v1';
    private const XML_PATH_ENDPOINT = 'fixture_ai/general/endpoint';

    public function __construct(
        private readonly Client $client,
        private readonly ClientFactory $clientFactory,
        private readonly Curl $curl,
        private readonly ScopeConfigInterface $scopeConfig
    ) {
    }

    public function guzzleWithConstant(ProductInterface $product): void
    {
        $payload = ['model' => 'gpt-4o-mini', 'messages' => [['role' => 'user', 'content' => $product->getName()]]];
        // ruleid: php-ai-http-call
        $this->client->post(self::OPENAI . '/chat/completions', ['json' => $payload]);
    }

    public function guzzleBaseUri(ProductInterface $product): void
    {
        $client = $this->clientFactory->create(['config' => ['base_uri' => 'https://api.anthropic.com']]);
        // ruleid: php-ai-http-call
        $client->request('POST', '/v1/messages', ['json' => ['messages' => [$product->getPrice()]]]);
    }

    public function magentoCurl(ProductInterface $product): void
    {
        $this->curl->addHeader('Content-Type', 'application/json');
        // ruleid: php-ai-http-call
        $this->curl->post('https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent', json_encode(['contents' => $product->getDescription()]));
    }

    public function rawCurl(string $query): string
    {
        $ch = curl_init();
        curl_setopt($ch, CURLOPT_URL, sprintf('%s/chat/completions', 'https://api.mistral.ai/v1'));
        curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode(['model' => 'mistral-small', 'messages' => [$query]]));
        // ruleid: php-ai-http-call
        $result = curl_exec($ch);
        curl_close($ch);
        return (string) $result;
    }

    public function laminas(ProductInterface $product): void
    {
        $client = new LaminasClient();
        $client->setUri('https://api.cohere.com/v2/chat');
        $client->setRawBody(json_encode(['message' => $product->getName()]));
        // ruleid: php-ai-http-call
        $client->send();
    }

    public function stream(ProductInterface $product): string
    {
        $context = stream_context_create(['http' => ['method' => 'POST', 'content' => json_encode(['inputs' => $product->getName()])]]);
        // ruleid: php-ai-http-call
        return (string) file_get_contents('https://api-inference.huggingface.co/models/gpt2', false, $context);
    }

    public function fromConfig(ProductInterface $product): void
    {
        $endpoint = (string) $this->scopeConfig->getValue(self::XML_PATH_ENDPOINT);
        // ruleid: php-ai-http-call
        $this->client->post($endpoint, ['json' => ['prompt' => $product->getName()]]);
    }

    public function soap(ProductInterface $product): void
    {
        $client = new \SoapClient('https://api.signifyd.com/v2/wsdl');
        // ruleid: php-ai-http-call
        $client->scoreOrder(['sku' => $product->getSku(), 'price' => $product->getPrice()]);
    }

    public function psr7(ProductInterface $product): void
    {
        $request = new \GuzzleHttp\Psr7\Request('POST', 'https://api.groq.com/openai/v1/chat/completions', [], json_encode(['messages' => [$product->getName()]]));
        // ruleid: php-ai-http-call
        $this->client->send($request);
    }

    public function laminasConstructor(ProductInterface $product): void
    {
        $client = new LaminasClient('https://api.deepseek.com/chat/completions');
        $client->setRawBody(json_encode(['messages' => [$product->getShortDescription()]]));
        // ruleid: php-ai-http-call
        $client->send();
    }

    public function notAi(ProductInterface $product): void
    {
        // ok: php-ai-http-call
        $this->client->post('https://maps.googleapis.com/maps/api/geocode/json', ['json' => ['sku' => $product->getSku()]]);
        // A comment naming https://api.openai.com/v1 is not a call.
        // ok: php-ai-http-call
        $this->curl->post('http://mageguard-gateway.internal:8080/v1/chat/completions', json_encode(['prompt' => $product->getName()]));
    }
}
