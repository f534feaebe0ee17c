<?php
declare(strict_types=1);

namespace Mageguard\Connector\Plugin;

use GuzzleHttp\Client;
use Mageguard\Connector\Model\Gateway;
use Mageguard\Connector\Model\RequestRewriter;
use Psr\Http\Message\RequestInterface;

/**
 * A GuzzleHttp\Client from the object manager, called with an absolute URL. Relative URLs are
 * the client factory plugin's. request() runs through requestAsync() and send() through
 * sendAsync() (as does PSR-18 sendRequest()); the second pass finds the gateway's URL, which
 * is no AI host, and leaves it alone.
 */
class GuzzleClientPlugin
{
    public function __construct(
        private readonly Gateway $gateway,
        private readonly RequestRewriter $requests
    ) {
    }

    /** @return array{0: string, 1: mixed, 2: array<string, mixed>} */
    public function beforeRequest(Client $subject, string $method, $uri = '', array $options = []): array
    {
        return [$method, ...$this->reroute($uri, $options)];
    }

    /** @return array{0: string, 1: mixed, 2: array<string, mixed>} */
    public function beforeRequestAsync(Client $subject, string $method, $uri = '', array $options = []): array
    {
        return [$method, ...$this->reroute($uri, $options)];
    }

    /** @return array{0: RequestInterface, 1: array<string, mixed>} */
    public function beforeSend(Client $subject, RequestInterface $request, array $options = []): array
    {
        return $this->rerouteRequest($request, $options);
    }

    /** @return array{0: RequestInterface, 1: array<string, mixed>} */
    public function beforeSendAsync(Client $subject, RequestInterface $request, array $options = []): array
    {
        return $this->rerouteRequest($request, $options);
    }

    /** @return array{0: mixed, 1: array<string, mixed>} */
    private function reroute($uri, array $options): array
    {
        $url = (string)$uri;
        $route = parse_url($url, PHP_URL_HOST) ? $this->gateway->route($url) : null;
        return $route === null ? [$uri, $options] : [$route['url'], $this->options($options, $route)];
    }

    /** @return array{0: RequestInterface, 1: array<string, mixed>} */
    private function rerouteRequest(RequestInterface $request, array $options): array
    {
        $route = $this->requests->routeOf($request);
        return $route === null
            ? [$request, $options]
            : [$this->requests->apply($request, $route), $this->options($options, $route)];
    }

    /**
     * The `headers` option overrides the request's own headers and `auth` sets Authorization
     * after both, so either could put the provider's key back.
     */
    private function options(array $options, array $route): array
    {
        unset($options['auth']);
        $headers = is_array($options['headers'] ?? null) ? $options['headers'] : [];
        $options['headers'] = $this->gateway->rewriteHeaders($headers, $route);
        return $options;
    }
}
