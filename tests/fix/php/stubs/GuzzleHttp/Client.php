<?php
declare(strict_types=1);

namespace GuzzleHttp;

use GuzzleHttp\Psr7\Request;
use Psr\Http\Message\RequestInterface;

/**
 * Guzzle 7's Client: resolves the URI against base_uri, adds default headers the request
 * lacks, sets the `headers` option over the request's and `auth` over both, and hands the
 * request to the handler.
 * Every method returns the request as it would leave (the real ones return a response or a
 * promise); without a handler the request itself is that.
 */
class Client
{
    public function __construct(private array $config = [])
    {
    }

    public function request(string $method, $uri = '', array $options = [])
    {
        return $this->requestAsync($method, $uri, $options);
    }

    public function requestAsync(string $method, $uri = '', array $options = [])
    {
        return $this->transfer(new Request($method, $uri), $options);
    }

    public function send(RequestInterface $request, array $options = [])
    {
        return $this->sendAsync($request, $options);
    }

    public function sendAsync(RequestInterface $request, array $options = [])
    {
        return $this->transfer($request, $options);
    }

    private function transfer(RequestInterface $request, array $options)
    {
        $request = $request->withUri(new Psr7\Uri($this->resolve((string)$request->getUri())));
        foreach ($options['headers'] ?? [] as $name => $value) {
            $request = $request->withHeader($name, $value);
        }
        if (isset($options['auth'])) {
            $request = $request->withHeader('Authorization', 'Basic ' . base64_encode(implode(':', $options['auth'])));
        }
        foreach ($this->config['headers'] ?? [] as $name => $value) {
            $request = $request->hasHeader($name) ? $request : $request->withHeader($name, $value);
        }
        $handler = $this->config['handler'] ?? null;
        return $handler === null ? $request : $handler($request, $options);
    }

    private function resolve(string $uri): string
    {
        $base = (string)($this->config['base_uri'] ?? '');
        if ($base === '' || parse_url($uri, PHP_URL_SCHEME)) {
            return $uri;
        }
        if (str_starts_with($uri, '/')) {
            $parts = parse_url($base);
            $port = isset($parts['port']) ? ':' . $parts['port'] : '';
            return $parts['scheme'] . '://' . $parts['host'] . $port . $uri;
        }
        return substr($base, 0, strrpos($base, '/') + 1) . $uri;
    }
}
