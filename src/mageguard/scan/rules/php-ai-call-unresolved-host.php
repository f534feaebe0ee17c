<?php
declare(strict_types=1);

namespace Fixture\PhpAiCallUnresolvedHost\Model;

use GuzzleHttp\Client;
use Magento\Catalog\Api\Data\ProductInterface;

class Unresolved
{
    public function __construct(private readonly Client $client)
    {
    }

    public function fromEnvironment(ProductInterface $product): void
    {
        $url = (string) getenv('LLM_ENDPOINT');
        $payload = ['model' => 'gpt-4o', 'messages' => [['role' => 'user', 'content' => $product->getName()]]];
        // ruleid: php-ai-call-unresolved-host
        $this->client->post($url, ['json' => $payload]);
    }

    public function notAnAiPayload(ProductInterface $product): void
    {
        $url = (string) getenv('ERP_ENDPOINT');
        // ok: php-ai-call-unresolved-host
        $this->client->post($url, ['json' => ['sku' => $product->getSku(), 'qty' => 1]]);
    }
}
