<?php
declare(strict_types=1);

namespace GuzzleHttp\Psr7;

use Psr\Http\Message\RequestInterface;
use Psr\Http\Message\UriInterface;

/** Immutable like the real one; header names are case-insensitive and keep their spelling. */
class Request implements RequestInterface
{
    private UriInterface $uri;

    /** @var array<string, array{0: string, 1: list<string>}> lowercase name => [name, values] */
    private array $headers = [];

    public function __construct(private string $method, $uri, array $headers = [])
    {
        $this->uri = $uri instanceof UriInterface ? $uri : new Uri((string)$uri);
        foreach ($headers as $name => $value) {
            $this->headers[strtolower($name)] = [$name, (array)$value];
        }
    }

    public function getMethod(): string
    {
        return $this->method;
    }

    public function getUri(): UriInterface
    {
        return $this->uri;
    }

    public function withUri(UriInterface $uri, $preserveHost = false): static
    {
        $new = clone $this;
        $new->uri = $uri;
        return $new;
    }

    public function getHeaders(): array
    {
        return array_column($this->headers, 1, 0);
    }

    public function hasHeader($name): bool
    {
        return isset($this->headers[strtolower($name)]);
    }

    public function getHeaderLine($name): string
    {
        return implode(', ', $this->headers[strtolower($name)][1] ?? []);
    }

    public function withHeader($name, $value): static
    {
        $new = clone $this;
        $new->headers[strtolower($name)] = [$name, (array)$value];
        return $new;
    }

    public function withoutHeader($name): static
    {
        $new = clone $this;
        unset($new->headers[strtolower($name)]);
        return $new;
    }
}
