<?php
declare(strict_types=1);

namespace Fixture\DiAiLogHandler\Model;

use GuzzleHttp\Client;
use Magento\Catalog\Api\Data\ProductInterface;
use Psr\Log\LoggerInterface;

class Assistant
{
    public function __construct(private readonly Client $client, private readonly LoggerInterface $logger)
    {
    }

    public function answer(ProductInterface $product): string
    {
        $response = $this->client->post('https://api.openai.com/v1/chat/completions', [
            'json' => ['model' => 'gpt-4o', 'messages' => [['role' => 'user', 'content' => $product->getName()]]],
        ]);
        $text = (string) $response->getBody();
        $this->logger->info($text);
        return $text;
    }
}
