<?php
declare(strict_types=1);

namespace Laminas\Http;

/** send() records the URI and headers it would send, where the real one returns a Response. */
class Client
{
    private ?Request $request = null;

    /** @var list<array{uri: string, headers: array<string, string>}> */
    public array $sent = [];

    public function __construct($uri = null, $options = null)
    {
        if ($uri !== null) {
            $this->setUri($uri);
        }
    }

    public function setRequest(Request $request)
    {
        $this->request = $request;
        return $this;
    }

    public function getRequest()
    {
        return $this->request ??= new Request();
    }

    public function setUri($uri)
    {
        $this->getRequest()->setUri($uri);
        return $this;
    }

    public function setHeaders($headers)
    {
        $this->getRequest()->getHeaders()->addHeaders($headers);
        return $this;
    }

    public function send(?Request $request = null)
    {
        if ($request !== null) {
            $this->setRequest($request);
        }
        $sent = $this->getRequest();
        $this->sent[] = ['uri' => $sent->getUriString(), 'headers' => $sent->getHeaders()->toArray()];
        return $sent;
    }
}
