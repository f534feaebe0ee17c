<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest;

use GuzzleHttp\ClientFactory;
use GuzzleHttp\HandlerStack;
use Lumen\SmartSearch\Model\Reranker;
use Mageguard\Connector\Model\BlockedCallException;
use Mageguard\Connector\Model\RequestRewriter;
use Mageguard\Connector\Plugin\GuzzleClientFactoryPlugin;
use Psr\Http\Message\RequestInterface;

final class GuzzleClientFactoryPluginTest extends ConnectorTestCase
{
    private GuzzleClientFactoryPlugin $plugin;

    protected function setUp(): void
    {
        parent::setUp();
        $this->plugin = new GuzzleClientFactoryPlugin($this->gateway, new RequestRewriter($this->gateway));
    }

    public function test_relative_uri_against_openai_base_uri_goes_to_gateway(): void
    {
        $client = $this->create([
            'base_uri' => 'https://api.openai.com/v1/',
            'headers' => ['Authorization' => 'Bearer ' . self::PROVIDER_KEY],
        ]);

        $sent = $client->request('POST', 'chat/completions', ['headers' => ['Content-Type' => 'application/json']]);

        self::assertSame(self::GATEWAY . '/v1/chat/completions', (string)$sent->getUri());
        self::assertSame(self::lines(['Content-Type' => 'application/json'] + self::gatewayHeaders()), $sent->getHeaders());
    }

    public function test_azure_deployment_base_uri_is_rerouted_per_request(): void
    {
        $client = $this->create(['base_uri' => 'https://shop-ai.openai.azure.com/openai/deployments/gpt-4o/']);

        $sent = $client->request('POST', 'chat/completions?api-version=2024-02-01', ['headers' => ['api-key' => self::PROVIDER_KEY]]);

        self::assertSame(self::GATEWAY . '/v1/chat/completions', (string)$sent->getUri());
        self::assertSame(self::lines(self::gatewayHeaders()), $sent->getHeaders());
    }

    public function test_anthropic_absolute_path_and_calling_module_surface(): void
    {
        $client = $this->create(['base_uri' => 'https://api.anthropic.com', 'headers' => ['x-api-key' => self::PROVIDER_KEY]]);

        $sent = (new Reranker())->run(static fn () => $client->request('POST', '/v1/messages'));

        self::assertSame(self::GATEWAY . '/v1/messages', (string)$sent->getUri());
        self::assertSame(self::lines(self::gatewayHeaders('gw-base-search', 'search_recommendations')), $sent->getHeaders());
    }

    public function test_non_ai_base_uri_is_left_alone(): void
    {
        $client = $this->create(['base_uri' => 'https://api.seon.io/SeonRestService/', 'headers' => ['X-API-KEY' => 'seon-key']]);

        $sent = $client->request('POST', 'fraud-api/v2/');

        self::assertSame('https://api.seon.io/SeonRestService/fraud-api/v2/', (string)$sent->getUri());
        self::assertSame(['X-API-KEY' => ['seon-key']], $sent->getHeaders());
    }

    public function test_call_the_gateway_cannot_serve_is_blocked(): void
    {
        $client = $this->create(['base_uri' => 'https://generativelanguage.googleapis.com/v1beta/']);

        $this->expectException(BlockedCallException::class);

        $client->request('POST', 'models/gemini-pro:generateContent');
    }

    public function test_existing_handler_stack_keeps_its_middleware_and_gets_ours_once(): void
    {
        $stack = HandlerStack::create();
        $stack->push(static fn (callable $next): callable => $next, 'retry');

        $this->create(['handler' => $stack]);
        $client = $this->create(['handler' => $stack, 'base_uri' => 'https://api.openai.com/v1/']);

        self::assertSame(['retry', 'mageguard_connector'], $stack->names());
        self::assertSame(self::GATEWAY . '/v1/models', (string)$client->request('GET', 'models')->getUri());
    }

    public function test_plain_handler_receives_the_rerouted_request(): void
    {
        $received = [];
        $handler = static function (RequestInterface $request, array $options) use (&$received) {
            $received[] = (string)$request->getUri();
            return $request;
        };

        $this->create(['handler' => $handler])->request('POST', 'https://api.openai.com/v1/responses');

        self::assertSame([self::GATEWAY . '/v1/responses'], $received);
    }

    public function test_disabled_connector_leaves_the_clients_configuration_alone(): void
    {
        $this->disable();
        $data = ['config' => ['base_uri' => 'https://api.openai.com/v1/']];

        self::assertSame([$data], $this->plugin->beforeCreate(new ClientFactory(), $data));
    }

    private function create(array $config)
    {
        return Intercept::call($this->plugin, new ClientFactory(), 'create', [['config' => $config]]);
    }

    /** @return array<string, list<string>> */
    private static function lines(array $headers): array
    {
        return array_map(static fn (string $value): array => [$value], $headers);
    }
}
