<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest;

use Lumen\SmartSearch\Model\Reranker;
use Magento\Framework\HTTP\Client\Curl;
use Mageguard\Connector\Model\BlockedCallException;
use Mageguard\Connector\Plugin\CurlPlugin;

final class CurlPluginTest extends ConnectorTestCase
{
    private Curl $curl;
    private CurlPlugin $plugin;

    protected function setUp(): void
    {
        parent::setUp();
        $this->curl = new Curl();
        $this->curl->addHeader('Content-Type', 'application/json');
        $this->plugin = new CurlPlugin($this->gateway);
    }

    public function test_openai_post_goes_to_gateway_with_gateway_key_and_without_providers(): void
    {
        $this->curl->addHeader('authorization', 'Bearer ' . self::PROVIDER_KEY);

        Intercept::call($this->plugin, $this->curl, 'post', ['https://api.openai.com/v1/chat/completions', '{"model":"gpt-4o"}']);

        self::assertSame([[
            'method' => 'POST',
            'uri' => self::GATEWAY . '/v1/chat/completions',
            'headers' => ['Content-Type' => 'application/json'] + self::gatewayHeaders(),
            'params' => '{"model":"gpt-4o"}',
        ]], $this->curl->sent);
    }

    public function test_anthropic_key_header_is_replaced(): void
    {
        $this->curl->addHeader('x-api-key', self::PROVIDER_KEY);
        $this->curl->addHeader('anthropic-version', '2023-06-01');

        Intercept::call($this->plugin, $this->curl, 'post', ['https://api.anthropic.com/v1/messages', '{}']);

        self::assertSame(self::GATEWAY . '/v1/messages', $this->curl->sent[0]['uri']);
        self::assertSame(
            ['Content-Type' => 'application/json', 'anthropic-version' => '2023-06-01'] + self::gatewayHeaders(),
            $this->curl->sent[0]['headers']
        );
    }

    public function test_azure_get_of_deployment_path_is_rerouted(): void
    {
        $this->curl->addHeader('api-key', self::PROVIDER_KEY);

        Intercept::call($this->plugin, $this->curl, 'get', ['https://shop-ai.openai.azure.com/openai/deployments/gpt/models?api-version=2024-02-01']);

        self::assertSame(self::GATEWAY . '/v1/models', $this->curl->sent[0]['uri']);
        self::assertStringNotContainsString(self::PROVIDER_KEY, serialize($this->curl->sent));
    }

    public function test_non_ai_call_is_left_alone(): void
    {
        $this->curl->addHeader('Authorization', 'Bearer seon-key');

        Intercept::call($this->plugin, $this->curl, 'post', ['https://api.seon.io/SeonRestService/fraud-api/v2/', '{}']);

        self::assertSame('https://api.seon.io/SeonRestService/fraud-api/v2/', $this->curl->sent[0]['uri']);
        self::assertSame(['Content-Type' => 'application/json', 'Authorization' => 'Bearer seon-key'], $this->curl->sent[0]['headers']);
    }

    public function test_call_the_gateway_cannot_serve_is_blocked_and_nothing_is_sent(): void
    {
        try {
            Intercept::call($this->plugin, $this->curl, 'post', ['https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent', '{}']);
            self::fail('the call went out');
        } catch (BlockedCallException $e) {
            self::assertSame([], $this->curl->sent);
        }
    }

    public function test_disabled_connector_is_a_no_op(): void
    {
        $this->disable();
        $this->curl->addHeader('Authorization', 'Bearer ' . self::PROVIDER_KEY);

        Intercept::call($this->plugin, $this->curl, 'get', ['https://api.openai.com/v1/models']);

        self::assertSame('https://api.openai.com/v1/models', $this->curl->sent[0]['uri']);
        self::assertSame('Bearer ' . self::PROVIDER_KEY, $this->curl->sent[0]['headers']['Authorization']);
    }

    public function test_surface_and_key_follow_the_calling_module(): void
    {
        (new Reranker())->run(fn () => Intercept::call($this->plugin, $this->curl, 'post', ['https://api.openai.com/v1/embeddings', '{}']));

        self::assertSame(
            ['Content-Type' => 'application/json'] + self::gatewayHeaders('gw-base-search', 'search_recommendations'),
            $this->curl->sent[0]['headers']
        );
    }

    public function test_other_website_sends_its_own_key(): void
    {
        $this->stores->switchTo('b2b', 'b2b_en');

        Intercept::call($this->plugin, $this->curl, 'post', ['https://api.openai.com/v1/chat/completions', '{}']);

        self::assertSame(
            ['Content-Type' => 'application/json'] + self::gatewayHeaders('gw-b2b-default', 'default', 'b2b', 'b2b_en'),
            $this->curl->sent[0]['headers']
        );
    }
}
