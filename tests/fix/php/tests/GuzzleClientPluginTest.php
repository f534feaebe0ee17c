<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest;

use GuzzleHttp\Client;
use GuzzleHttp\Psr7\Request;
use Lumen\SmartSearch\Model\Reranker;
use Mageguard\Connector\Model\BlockedCallException;
use Mageguard\Connector\Model\RequestRewriter;
use Mageguard\Connector\Plugin\GuzzleClientPlugin;

final class GuzzleClientPluginTest extends ConnectorTestCase
{
    private GuzzleClientPlugin $plugin;

    protected function setUp(): void
    {
        parent::setUp();
        $this->plugin = new GuzzleClientPlugin($this->gateway, new RequestRewriter($this->gateway));
    }

    public function test_request_to_openai_goes_to_gateway_with_gateway_key_only(): void
    {
        $sent = Intercept::call($this->plugin, new Client(), 'request', ['POST', 'https://api.openai.com/v1/chat/completions', [
            'headers' => ['Authorization' => 'Bearer ' . self::PROVIDER_KEY, 'Content-Type' => 'application/json'],
            'auth' => ['user', self::PROVIDER_KEY],
        ]]);

        self::assertSame(self::GATEWAY . '/v1/chat/completions', (string)$sent->getUri());
        self::assertSame(self::lines(['Content-Type' => 'application/json'] + self::gatewayHeaders()), $sent->getHeaders());
    }

    public function test_request_async_to_anthropic_drops_its_key_header(): void
    {
        $sent = Intercept::call($this->plugin, new Client(), 'requestAsync', ['POST', 'https://api.anthropic.com/v1/messages', [
            'headers' => ['x-api-key' => self::PROVIDER_KEY],
        ]]);

        self::assertSame(self::GATEWAY . '/v1/messages', (string)$sent->getUri());
        self::assertSame(self::lines(self::gatewayHeaders()), $sent->getHeaders());
    }

    public function test_send_of_an_azure_request_goes_to_v1_chat_completions(): void
    {
        $request = new Request(
            'POST',
            'https://shop-ai.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-02-01',
            ['api-key' => self::PROVIDER_KEY, 'Content-Type' => 'application/json']
        );

        $sent = Intercept::call($this->plugin, new Client(), 'send', [$request, ['headers' => ['API-Key' => self::PROVIDER_KEY]]]);

        self::assertSame(self::GATEWAY . '/v1/chat/completions', (string)$sent->getUri());
        self::assertSame(self::lines(['Content-Type' => 'application/json'] + self::gatewayHeaders()), $sent->getHeaders());
    }

    public function test_send_async_takes_the_surface_of_the_calling_module(): void
    {
        $request = new Request('POST', 'https://api.openai.com/v1/embeddings', ['Authorization' => 'Bearer ' . self::PROVIDER_KEY]);

        $sent = (new Reranker())->run(fn () => Intercept::call($this->plugin, new Client(), 'sendAsync', [$request]));

        self::assertSame(self::lines(self::gatewayHeaders('gw-base-search', 'search_recommendations')), $sent->getHeaders());
    }

    public function test_call_the_gateway_cannot_serve_is_blocked(): void
    {
        $this->expectException(BlockedCallException::class);

        Intercept::call($this->plugin, new Client(), 'sendAsync', [
            new Request('POST', 'https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent'),
        ]);
    }

    public function test_non_ai_and_relative_calls_are_left_alone(): void
    {
        $options = ['headers' => ['Authorization' => 'Bearer seon-key']];

        self::assertSame(
            ['GET', 'https://maps.googleapis.com/maps/api/geocode/json', $options],
            $this->plugin->beforeRequest(new Client(), 'GET', 'https://maps.googleapis.com/maps/api/geocode/json', $options)
        );
        self::assertSame(
            ['POST', 'chat/completions', $options],
            $this->plugin->beforeRequest(new Client(), 'POST', 'chat/completions', $options)
        );
    }

    public function test_disabled_connector_is_a_no_op(): void
    {
        $this->disable();
        $request = new Request('POST', 'https://api.openai.com/v1/chat/completions', ['Authorization' => 'Bearer ' . self::PROVIDER_KEY]);

        self::assertSame([$request, []], $this->plugin->beforeSend(new Client(), $request, []));
    }

    /** @return array<string, list<string>> */
    private static function lines(array $headers): array
    {
        return array_map(static fn (string $value): array => [$value], $headers);
    }
}
