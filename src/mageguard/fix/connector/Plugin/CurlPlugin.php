<?php
declare(strict_types=1);

namespace Mageguard\Connector\Plugin;

use Magento\Framework\HTTP\Client\Curl;
use Mageguard\Connector\Model\Gateway;

/**
 * Magento's own curl client. Only get() and post() are plugged: Magento 2.4.6's Curl has no
 * other public verb (put, patch, delete... came later), and a plugin for a method the class
 * lacks fails setup:di:compile.
 */
class CurlPlugin
{
    public function __construct(private readonly Gateway $gateway)
    {
    }

    /** @return array{0: string} */
    public function beforeGet(Curl $subject, $uri): array
    {
        return [$this->reroute($subject, (string)$uri)];
    }

    /** @return array{0: string, 1: mixed} */
    public function beforePost(Curl $subject, $uri, $params): array
    {
        return [$this->reroute($subject, (string)$uri), $params];
    }

    private function reroute(Curl $curl, string $uri): string
    {
        $route = $this->gateway->route($uri);
        if ($route === null) {
            return $uri;
        }
        $curl->setHeaders($this->gateway->rewriteHeaders($this->headersOf($curl), $route));
        return $route['url'];
    }

    /**
     * Curl has no getter for the headers it will send; they are read in its own scope so the
     * provider's key goes however it was spelled (addHeader('authorization', ...) included).
     *
     * @return array<string, mixed>
     */
    private function headersOf(Curl $curl): array
    {
        return \Closure::bind(function (): array {
            return $this->_headers;
        }, $curl, Curl::class)();
    }
}
