<?php
return [
    'backend' => ['frontName' => 'admin_fixture'],
    'crypt' => ['key' => 'base64Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4MTIzNDU2'],
    'db' => [
        'table_prefix' => '',
        'connection' => [
            'default' => [
                'host' => 'localhost',
                'dbname' => 'magento',
                'username' => 'magento',
                // ok: ai-key-in-env-php
                'password' => 'not-an-ai-key-but-a-db-password',
                'active' => '1',
            ],
        ],
    ],
    'system' => [
        'default' => [
            'fixture_ai' => [
                'openai' => [
                    'endpoint' => 'https://api.openai.com/v1',
                    // ruleid: ai-key-in-env-php
                    'api_key' => 'sk-proj-Fake0EXAMPLE1env2NOT3real4Zq8Lm2Xc7Vb9Nk1Hj5Gf3Ds',
                ],
            ],
        ],
        'websites' => [
            'b2b' => [
                'fixture_ai' => [
                    'mistral' => [
                        // ruleid: ai-key-in-env-php
                        'api_key' => 'FAKEexample0mistral1KEY2not3REAL4',
                        // ok: ai-key-in-env-php
                        'encrypted_key' => '0:3:ZmFrZWVuY3J5cHRlZHZhbHVlZm9yZml4dHVyZXM=',
                    ],
                ],
            ],
        ],
    ],
    'MAGE_MODE' => 'production',
];
