<?php
declare(strict_types=1);

namespace Magento\Framework\HTTP\Client;

/** Magento 2.4.6's Curl: get/post are its only public verbs; makeRequest records, never sends. */
class Curl
{
    /** @var array<string, string> */
    protected $_headers = [];

    /** @var list<array{method: string, uri: string, headers: array<string, string>, params: mixed}> */
    public array $sent = [];

    public function setHeaders($headers)
    {
        $this->_headers = $headers;
    }

    public function addHeader($name, $value)
    {
        $this->_headers[$name] = $value;
    }

    public function removeHeader($name)
    {
        unset($this->_headers[$name]);
    }

    public function get($uri)
    {
        $this->makeRequest('GET', $uri);
    }

    public function post($uri, $params)
    {
        $this->makeRequest('POST', $uri, $params);
    }

    protected function makeRequest($method, $uri, $params = [])
    {
        $this->sent[] = ['method' => $method, 'uri' => $uri, 'headers' => $this->_headers, 'params' => $params];
    }
}
