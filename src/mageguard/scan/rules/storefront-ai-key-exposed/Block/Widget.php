<?php
declare(strict_types=1);

namespace Fixture\StorefrontAiKeyExposed\Block;

use Magento\Framework\View\Element\Template;

class Widget extends Template
{
    public function getApiKey(): string
    {
        return (string) $this->_scopeConfig->getValue('fixture_chat/openai/api_key');
    }

    public function getModel(): string
    {
        return (string) $this->_scopeConfig->getValue('fixture_chat/openai/model');
    }

    public function getEndpoint(): string
    {
        return 'https://api.openai.com/v1/chat/completions';
    }
}
