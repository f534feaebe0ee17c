<?php
declare(strict_types=1);

namespace Fixture\HardcodedAiKey\Model;

class Keys
{
    // ruleid: hardcoded-ai-key
    private const OPENAI_KEY = 'sk-proj-Fake0EXAMPLE1key2NOT3real4Zq8Lm2Xc7Vb9Nk1Hj5Gf3Ds';
    // ruleid: hardcoded-ai-key
    private const CLAUDE_KEY = 'sk-ant-api03-FAKEexampleKEY0123456789abcdefGHIJKLmnopQRSTuvwxYZ0123456789abcdEXAMPLEfakeKEY0123456789abcd-Ab12CdAA';
    // ruleid: hardcoded-ai-key
    private const GEMINI_KEY = 'AIzaSyFAKE0EXAMPLE1key2NOT3real4Zq8Lm2X';
    // ok: hardcoded-ai-key
    private const SKU = 'desk-lamp-sku-0001-oak-finish-large-2024-edition';
    // ok: hardcoded-ai-key
    private const PLACEHOLDER = 'sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
    // ok: hardcoded-ai-key
    private const TASK = 'task-runner-queue-consumer-for-catalog-rules-reindex';

    public function keys(): array
    {
        return [self::OPENAI_KEY, self::CLAUDE_KEY, self::GEMINI_KEY, self::SKU, self::PLACEHOLDER, self::TASK];
    }
}
