<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest;

use Lumen\Copywriter\Model\Writer;
use Lumen\SmartSearch\Model\Reranker;
use Mageguard\Connector\Model\BlockedCallException;

final class GatewayTest extends ConnectorTestCase
{
    public function test_openai_chat_call_goes_to_gateway_with_its_four_headers(): void
    {
        $route = $this->gateway->route('https://api.openai.com/v1/chat/completions');

        self::assertSame(self::GATEWAY . '/v1/chat/completions', $route['url']);
        self::assertSame(self::gatewayHeaders(), $route['headers']);
        self::assertSame(['Authorization', 'x-api-key', 'api-key', 'x-goog-api-key'], $route['remove_headers']);
    }

    public function test_a_call_already_aimed_at_the_gateway_keeps_its_url_and_gets_our_key(): void
    {
        $url = self::GATEWAY . '/v1/chat/completions';
        $route = $this->gateway->route($url);

        self::assertSame($url, $route['url']);
        self::assertSame(self::gatewayHeaders(), $route['headers']);
        self::assertSame(['Authorization', 'x-api-key', 'api-key', 'x-goog-api-key'], $route['remove_headers']);
    }

    /** @dataProvider notTheGateway */
    public function test_a_look_alike_of_the_gateway_url_is_not_the_gateway(string $url): void
    {
        self::assertNull($this->gateway->route($url));
    }

    public static function notTheGateway(): array
    {
        return [
            'other port' => ['http://127.0.0.1:8701/v1/chat/completions'],
            'other host' => ['http://127.0.0.2:8700/v1/chat/completions'],
        ];
    }

    /** @dataProvider servedCalls */
    public function test_served_api_paths_map_to_the_gateways_v1_path(string $url, string $path): void
    {
        self::assertSame(self::GATEWAY . $path, $this->gateway->route($url)['url']);
    }

    public static function servedCalls(): array
    {
        return [
            'openai completions' => ['https://api.openai.com/v1/completions', '/v1/completions'],
            'openai embeddings' => ['https://api.openai.com/v1/embeddings', '/v1/embeddings'],
            'openai responses' => ['https://api.openai.com/v1/responses', '/v1/responses'],
            'openai models' => ['https://api.openai.com/v1/models', '/v1/models'],
            'azure deployment, query dropped' => [
                'https://shop-ai.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-02-01',
                '/v1/chat/completions',
            ],
            'wildcard spans several labels' => [
                'https://eu.shop-ai.openai.azure.com/openai/deployments/ada/embeddings?api-version=1',
                '/v1/embeddings',
            ],
            'anthropic messages' => ['https://api.anthropic.com/v1/messages', '/v1/messages'],
            'host in capitals, port, trailing slash' => ['HTTPS://API.OpenAI.com:443/v1/chat/completions/', '/v1/chat/completions'],
            'no scheme, as libcurl reads it' => ['api.openai.com/v1/chat/completions', '/v1/chat/completions'],
        ];
    }

    /** @dataProvider untouchedCalls */
    public function test_calls_to_hosts_outside_the_routes_are_left_alone(string $url): void
    {
        self::assertNull($this->gateway->route($url));
    }

    public static function untouchedCalls(): array
    {
        return [
            'maps' => ['https://maps.googleapis.com/maps/api/geocode/json?address=Berlin'],
            'fraud scoring not in routes' => ['https://api.seon.io/SeonRestService/fraud-api/v2/'],
            'look-alike suffix' => ['https://api.openai.com.evil.example/v1/chat/completions'],
            'look-alike prefix' => ['https://xapi.openai.com/v1/chat/completions'],
            'wildcard needs a label' => ['https://openai.azure.com/openai/deployments/x/chat/completions'],
            'relative' => ['/v1/chat/completions'],
        ];
    }

    /** @dataProvider blockedCalls */
    public function test_ai_calls_the_gateway_cannot_serve_are_blocked(string $url, string $host): void
    {
        $this->expectException(BlockedCallException::class);
        $this->expectExceptionMessageMatches('/' . preg_quote($host, '/') . '.*the gateway does not speak that API/');

        $this->gateway->route($url);
    }

    public static function blockedCalls(): array
    {
        return [
            'protocol null' => [
                'https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent',
                'generativelanguage.googleapis.com',
            ],
            'openai path the gateway lacks' => ['https://api.openai.com/v1/audio/speech', 'api.openai.com'],
            'anthropic legacy completions' => ['https://api.anthropic.com/v1/complete', 'api.anthropic.com'],
            'anthropic batches' => ['https://api.anthropic.com/v1/messages/batches', 'api.anthropic.com'],
        ];
    }

    public function test_disabled_connector_routes_nothing_and_blocks_nothing(): void
    {
        $this->disable();

        self::assertFalse($this->gateway->isEnabled());
        self::assertNull($this->gateway->route('https://api.openai.com/v1/chat/completions'));
        self::assertNull($this->gateway->route('https://generativelanguage.googleapis.com/v1beta/models'));
    }

    public function test_connector_can_be_disabled_for_one_website_only(): void
    {
        $this->config->set('mageguard_connector/general/enabled', '0', 'b2b');
        self::assertNotNull($this->gateway->route('https://api.openai.com/v1/chat/completions'));

        $this->stores->switchTo('b2b', 'b2b_en');
        self::assertNull($this->gateway->route('https://api.openai.com/v1/chat/completions'));
    }

    public function test_surface_is_that_of_the_calling_modules_namespace(): void
    {
        $route = (new Reranker())->run(fn () => $this->gateway->route('https://api.openai.com/v1/embeddings'));

        self::assertSame(self::gatewayHeaders('gw-base-search', 'search_recommendations'), $route['headers']);
    }

    public function test_longest_prefix_wins_and_a_surface_without_key_uses_the_default_key(): void
    {
        $route = (new Writer())->run(fn () => $this->gateway->route('https://api.openai.com/v1/chat/completions'));

        self::assertSame(self::gatewayHeaders('gw-base-default', 'content_generation'), $route['headers']);
    }

    public function test_each_website_gets_its_own_key_and_tenant(): void
    {
        $base = $this->gateway->route('https://api.openai.com/v1/chat/completions');
        $this->stores->switchTo('b2b', 'b2b_en');
        $b2b = $this->gateway->route('https://api.openai.com/v1/chat/completions');

        self::assertSame(self::gatewayHeaders('gw-base-default'), $base['headers']);
        self::assertSame(self::gatewayHeaders('gw-b2b-default', 'default', 'b2b', 'b2b_en'), $b2b['headers']);
    }

    public function test_missing_key_blocks_the_call(): void
    {
        $this->stores->switchTo('b2b', 'b2b_en');
        $this->setKey('default', null, 'b2b');

        $this->expectException(BlockedCallException::class);
        $this->expectExceptionMessage('no gateway key for surface "default" on website "b2b"');

        $this->gateway->route('https://api.anthropic.com/v1/messages');
    }

    public function test_a_key_that_does_not_decrypt_counts_as_missing(): void
    {
        $this->config->set('mageguard_connector/keys/default', 'plain-text-not-encrypted', 'base');

        $this->expectException(BlockedCallException::class);

        $this->gateway->route('https://api.openai.com/v1/chat/completions');
    }

    public function test_routes_that_are_not_json_block_every_call(): void
    {
        $this->config->set('mageguard_connector/general/routes', '[{"host": ');

        $this->expectException(BlockedCallException::class);
        $this->expectExceptionMessage('routes is not a JSON list');

        $this->gateway->route('https://maps.googleapis.com/maps/api/geocode/json');
    }

    public function test_headers_are_rewritten_whatever_the_case_of_the_providers_names(): void
    {
        $route = $this->gateway->route('https://api.openai.com/v1/chat/completions');
        $headers = [
            'authorization' => 'Bearer ' . self::PROVIDER_KEY,
            'X-API-KEY' => self::PROVIDER_KEY,
            'Content-Type' => 'application/json',
            'x-mageguard-surface' => 'forged',
        ];

        self::assertSame(
            ['Content-Type' => 'application/json'] + self::gatewayHeaders(),
            $this->gateway->rewriteHeaders($headers, $route)
        );
    }
}
