<?php
declare(strict_types=1);

namespace Fixture\PhpPromptLogging\Model;

use GuzzleHttp\Client;
use Magento\Framework\HTTP\Client\Curl;
use Magento\Catalog\Api\Data\ProductInterface;
use Psr\Log\LoggerInterface;

class LoggedChat
{
    public function __construct(
        private readonly Client $client,
        private readonly LoggerInterface $logger,
        private readonly Curl $curl
    ) {
    }

    public function ask(string $question): string
    {
        $this->curl->post('https://api.anthropic.com/v1/messages', json_encode(['messages' => [$question]]));
        // ok: php-prompt-logging
        $this->logger->debug('Anthropic status', ['status' => $this->curl->getStatus()]);
        $reply = $this->curl->getBody();
        // ruleid: php-prompt-logging
        $this->logger->debug('Anthropic reply', ['reply' => $reply]);
        return $reply;
    }

    public function describe(ProductInterface $product): string
    {
        $prompt = 'Write a description of ' . $product->getName() . ' priced at ' . $product->getPrice();
        // ruleid: php-prompt-logging
        $this->logger->debug('OpenAI prompt: ' . $prompt);
        try {
            $response = $this->client->post('https://api.openai.com/v1/chat/completions', [
                'json' => ['model' => 'gpt-4o', 'messages' => [['role' => 'user', 'content' => $prompt]]],
            ]);
        } catch (\Throwable $e) {
            // ok: php-prompt-logging
            $this->logger->error('OpenAI call failed: ' . $e->getMessage());
            return '';
        }
        $answer = (string) $response->getBody();
        // ruleid: php-prompt-logging
        $this->logger->info('OpenAI answer', ['body' => $answer]);
        // ok: php-prompt-logging
        $this->logger->info('Generated a description', ['sku_length' => strlen($product->getSku())]);
        return $answer;
    }
}
