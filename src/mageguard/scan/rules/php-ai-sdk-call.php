<?php
declare(strict_types=1);

namespace Fixture\PhpAiSdkCall\Model;

use Anthropic;
use Aws\BedrockRuntime\BedrockRuntimeClient;
use Gemini;
use Magento\Catalog\Api\Data\ProductInterface;
use Magento\Framework\App\Config\ScopeConfigInterface;
use OpenAI;

class SdkCalls
{
    public function __construct(private readonly ScopeConfigInterface $scopeConfig)
    {
    }

    public function openaiClient(ProductInterface $product): string
    {
        $client = OpenAI::client((string) $this->scopeConfig->getValue('fixture/openai/api_key'));
        // ruleid: php-ai-sdk-call
        $result = $client->chat()->create([
            'model' => 'gpt-4o-mini',
            'messages' => [['role' => 'user', 'content' => 'Describe ' . $product->getName()]],
        ]);
        return (string) $result->choices[0]->message->content;
    }

    public function openaiFactory(ProductInterface $product): void
    {
        $client = OpenAI::factory()->withApiKey('key-from-config')->make();
        // ruleid: php-ai-sdk-call
        $client->embeddings()->create(['model' => 'text-embedding-3-small', 'input' => $product->getDescription()]);
    }

    public function gemini(ProductInterface $product): void
    {
        $client = Gemini::client('key-from-config');
        // ruleid: php-ai-sdk-call
        $client->generativeModel(model: 'gemini-2.0-flash')->generateContent($product->getName());
    }

    public function claude(ProductInterface $product): void
    {
        $client = Anthropic::client('key-from-config');
        // ruleid: php-ai-sdk-call
        $client->messages()->create(['model' => 'claude-3-5-haiku-latest', 'max_tokens' => 200, 'messages' => [['role' => 'user', 'content' => $product->getName()]]]);
    }

    public function bedrock(ProductInterface $product): void
    {
        $client = new BedrockRuntimeClient(['region' => 'eu-west-1', 'version' => 'latest']);
        // ruleid: php-ai-sdk-call
        $client->converse(['modelId' => 'anthropic.claude-3-haiku', 'messages' => [['role' => 'user', 'content' => [['text' => $product->getPrice()]]]]]);
    }

    public function throughGateway(ProductInterface $product): void
    {
        $client = OpenAI::factory()->withBaseUri('http://mageguard-gateway.internal:8080/v1')->make();
        // ok: php-ai-sdk-call
        $client->chat()->create(['model' => 'local', 'messages' => [['role' => 'user', 'content' => $product->getName()]]]);
    }
}
