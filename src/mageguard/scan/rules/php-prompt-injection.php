<?php
declare(strict_types=1);

namespace Fixture\PhpPromptInjection\Model;

use Magento\Framework\App\RequestInterface;
use Magento\Framework\HTTP\Client\Curl;
use Magento\Review\Model\ResourceModel\Review\CollectionFactory;

class Prompts
{
    public function __construct(
        private readonly Curl $curl,
        private readonly RequestInterface $request,
        private readonly CollectionFactory $reviewCollectionFactory,
        private readonly PromptGuard $promptGuard
    ) {
    }

    public function summariseReviews(int $productId): void
    {
        $prompt = "Summarise these reviews:\n";
        foreach ($this->reviewCollectionFactory->create()->addEntityFilter('product', $productId) as $review) {
            $prompt .= '- ' . $review->getDetail() . "\n";
        }
        // ruleid: php-prompt-injection
        $this->curl->post('https://api.openai.com/v1/chat/completions', json_encode(['model' => 'gpt-4o', 'messages' => [['role' => 'user', 'content' => $prompt]]]));
    }

    public function answerQuestion(): void
    {
        $question = (string) $this->request->getParam('q');
        // ruleid: php-prompt-injection
        $this->curl->post('https://api.anthropic.com/v1/messages', json_encode(['messages' => [['role' => 'user', 'content' => $question]]]));
    }

    public function validatedQuestion(): void
    {
        $question = $this->promptGuard->validatePrompt((string) $this->request->getParam('q'));
        // ok: php-prompt-injection
        $this->curl->post('https://api.anthropic.com/v1/messages', json_encode(['messages' => [['role' => 'user', 'content' => $question]]]));
    }
}

class PromptGuard
{
    public function validatePrompt(string $text): string
    {
        return $text;
    }
}
