<?php
// Cases for rules.yaml: bench/semgrep/check_rules.py checks every annotation.
return [
    'system' => [
        'default' => [
            'bench_ai' => [
                'general' => [
                    // ruleid: ai-endpoint-in-config
                    'endpoint' => 'https://api.anthropic.com',
                    // ruleid: hardcoded-ai-key
                    'api_key' => 'sk-ant-admin01-FAKE0KEY0FOR0SEMGREP0RULE0TESTS0ONLY',
                    // ok: hardcoded-ai-key
                    'task' => 'risk-assessment-0123456789abcdefghijklmnopqrstuvwxyz',
                ],
            ],
        ],
    ],
];
