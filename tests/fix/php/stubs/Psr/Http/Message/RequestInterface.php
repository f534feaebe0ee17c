<?php
declare(strict_types=1);

namespace Psr\Http\Message;

interface RequestInterface
{
    public function getMethod();

    public function getUri();

    public function withUri(UriInterface $uri, $preserveHost = false);

    public function getHeaders();

    public function hasHeader($name);

    public function getHeaderLine($name);

    public function withHeader($name, $value);

    public function withoutHeader($name);
}
