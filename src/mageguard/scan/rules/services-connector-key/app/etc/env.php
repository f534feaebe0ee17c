<?php
return [
    'system' => [
        'default' => [
            'services_connector' => [
                'services_connector_integration' => [
                    // ruleid: services-connector-key
                    'production_api_key' => 'FAKEexample0adobe1SERVICES2connector3KEY4abcdef',
                    // ruleid: services-connector-key
                    'production_private_key' => '0:3:RkFLRWVuY3J5cHRlZHByaXZhdGVrZXlleGFtcGxl',
                ],
            ],
            'web' => [
                'secure' => [
                    // ok: services-connector-key
                    'base_url' => 'https://shop.example.com/',
                ],
            ],
        ],
    ],
];
