<?php
declare(strict_types=1);

namespace Mageguard\Connector\Plugin;

use GuzzleHttp\ClientFactory;
use GuzzleHttp\HandlerStack;
use GuzzleHttp\Middleware;
use Mageguard\Connector\Model\Gateway;
use Mageguard\Connector\Model\RequestRewriter;
use Psr\Http\Message\RequestInterface;

/**
 * Clients made by Magento's generated GuzzleHttp\ClientFactory. Guzzle resolves a relative URI
 * against base_uri, and merges default headers and `auth`, only after every public method has
 * run: a handler middleware is the one place that sees the URL and headers each request
 * really leaves with. Pushed last, it runs innermost, so redirects pass through it too.
 */
class GuzzleClientFactoryPlugin
{
    private const MIDDLEWARE = 'mageguard_connector';

    public function __construct(
        private readonly Gateway $gateway,
        private readonly RequestRewriter $requests
    ) {
    }

    /** @return array{0: array<string, mixed>} */
    public function beforeCreate(ClientFactory $subject, array $data = []): array
    {
        if (!$this->gateway->isEnabled()) {
            return [$data];
        }
        $config = $data['config'] ?? [];
        $handler = $config['handler'] ?? null;
        $stack = match (true) {
            $handler instanceof HandlerStack => $handler,
            $handler === null => HandlerStack::create(),
            default => new HandlerStack($handler),
        };
        $stack->remove(self::MIDDLEWARE);
        $stack->push(
            Middleware::mapRequest(fn (RequestInterface $request): RequestInterface => $this->requests->rewrite($request)),
            self::MIDDLEWARE
        );
        $config['handler'] = $stack;
        $data['config'] = $config;
        return [$data];
    }
}
