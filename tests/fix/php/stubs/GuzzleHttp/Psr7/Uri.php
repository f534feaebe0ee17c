<?php
declare(strict_types=1);

namespace GuzzleHttp\Psr7;

use Psr\Http\Message\UriInterface;

class Uri implements UriInterface
{
    public function __construct(private string $uri = '')
    {
    }

    public function getHost(): string
    {
        return (string)parse_url($this->uri, PHP_URL_HOST);
    }

    public function __toString(): string
    {
        return $this->uri;
    }
}
