<?php
declare(strict_types=1);

namespace Mageguard\Connector\Model;

use GuzzleHttp\Psr7\Uri;
use Psr\Http\Message\RequestInterface;

/** Applies the gateway's decision to a PSR-7 request, for both Guzzle plugins. */
class RequestRewriter
{
    public function __construct(private readonly Gateway $gateway)
    {
    }

    /** @throws BlockedCallException */
    public function rewrite(RequestInterface $request): RequestInterface
    {
        $route = $this->routeOf($request);
        return $route === null ? $request : $this->apply($request, $route);
    }

    /**
     * A relative URI has no host yet: Guzzle resolves it against base_uri later, where the
     * client factory's middleware sees it.
     *
     * @return array{url: string, headers: array<string, string>, remove_headers: list<string>}|null
     * @throws BlockedCallException
     */
    public function routeOf(RequestInterface $request): ?array
    {
        $uri = (string)$request->getUri();
        return parse_url($uri, PHP_URL_HOST) ? $this->gateway->route($uri) : null;
    }

    /** @param array{url: string, headers: array<string, string>, remove_headers: list<string>} $route */
    public function apply(RequestInterface $request, array $route): RequestInterface
    {
        $request = $request->withUri(new Uri($route['url']));
        foreach ([...$route['remove_headers'], ...array_keys($route['headers'])] as $name) {
            $request = $request->withoutHeader($name);
        }
        foreach ($route['headers'] as $name => $value) {
            $request = $request->withHeader($name, $value);
        }
        return $request;
    }
}
