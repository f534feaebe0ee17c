<?php
declare(strict_types=1);

namespace Laminas\Http;

class Request
{
    private string $uri = '';

    private ?Headers $headers = null;

    public function setUri($uri)
    {
        $this->uri = (string)$uri;
        return $this;
    }

    public function getUriString()
    {
        return $this->uri;
    }

    public function setHeaders(Headers $headers)
    {
        $this->headers = $headers;
        return $this;
    }

    public function getHeaders($name = null, $default = false)
    {
        return $this->headers ??= new Headers();
    }
}
