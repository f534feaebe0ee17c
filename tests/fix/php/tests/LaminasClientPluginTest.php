<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest;

use Laminas\Http\Client;
use Laminas\Http\Headers;
use Laminas\Http\Request;
use Lumen\SmartSearch\Model\Reranker;
use Mageguard\Connector\Model\BlockedCallException;
use Mageguard\Connector\Plugin\LaminasClientPlugin;

final class LaminasClientPluginTest extends ConnectorTestCase
{
    private LaminasClientPlugin $plugin;

    protected function setUp(): void
    {
        parent::setUp();
        $this->plugin = new LaminasClientPlugin($this->gateway);
    }

    public function test_request_passed_to_send_goes_to_gateway_with_gateway_key_only(): void
    {
        $client = new Client();

        Intercept::call($this->plugin, $client, 'send', [$this->request('https://api.openai.com/v1/chat/completions', [
            'Authorization' => 'Bearer ' . self::PROVIDER_KEY,
            'Content-Type' => 'application/json',
        ])]);

        self::assertSame([[
            'uri' => self::GATEWAY . '/v1/chat/completions',
            'headers' => ['Content-Type' => 'application/json'] + self::gatewayHeaders(),
        ]], $client->sent);
    }

    public function test_clients_own_request_to_anthropic_is_rerouted(): void
    {
        $client = new Client('https://api.anthropic.com/v1/messages');
        $client->setHeaders(['x-api-key' => self::PROVIDER_KEY]);

        (new Reranker())->run(fn () => Intercept::call($this->plugin, $client, 'send', []));

        self::assertSame([[
            'uri' => self::GATEWAY . '/v1/messages',
            'headers' => self::gatewayHeaders('gw-base-search', 'search_recommendations'),
        ]], $client->sent);
    }

    public function test_non_ai_call_is_left_alone(): void
    {
        $client = new Client('https://maps.googleapis.com/maps/api/geocode/json?address=Berlin');

        Intercept::call($this->plugin, $client, 'send', []);

        self::assertSame([['uri' => 'https://maps.googleapis.com/maps/api/geocode/json?address=Berlin', 'headers' => []]], $client->sent);
    }

    public function test_call_the_gateway_cannot_serve_is_blocked_and_nothing_is_sent(): void
    {
        $client = new Client('https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent');

        try {
            Intercept::call($this->plugin, $client, 'send', []);
            self::fail('the call went out');
        } catch (BlockedCallException $e) {
            self::assertSame([], $client->sent);
        }
    }

    public function test_disabled_connector_is_a_no_op(): void
    {
        $this->disable();
        $client = new Client();

        Intercept::call($this->plugin, $client, 'send', [$this->request('https://api.openai.com/v1/models', ['Authorization' => 'Bearer ' . self::PROVIDER_KEY])]);

        self::assertSame([[
            'uri' => 'https://api.openai.com/v1/models',
            'headers' => ['Authorization' => 'Bearer ' . self::PROVIDER_KEY],
        ]], $client->sent);
    }

    private function request(string $uri, array $headers): Request
    {
        return (new Request())->setUri($uri)->setHeaders((new Headers())->addHeaders($headers));
    }
}
